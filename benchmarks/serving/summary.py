"""SUMMARY.md of the serving benchmark, from its results.json."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

# The targets: p99 of single-row requests at 1 worker, and throughput against the plain handler.
P99_TARGET_MS = 20.0
THROUGHPUT_TARGET = 0.8


def _by(load: list[dict[str, Any]], model: str, server: str, workers: int, phase: str) -> dict[str, float] | None:
    """Median over the rounds of req/s, p50 and p99 of one server, model and phase (None if not run)."""
    rounds = [r for r in load if (r["model"], r["server"], r["workers"], r["phase"]) == (model, server, workers, phase)]
    if not rounds:
        return None
    medians = {key: statistics.median(r[key] for r in rounds) for key in ("requests_per_second", "p50_ms", "p99_ms")}
    rates = [r["requests_per_second"] for r in rounds]
    return {**medians, "slowest": min(rates), "fastest": max(rates)}


def _table(load: list[dict[str, Any]], model: str) -> list[str]:
    servers = dict.fromkeys((r["server"], r["workers"]) for r in load if r["model"] == model)
    concurrency = next(r["concurrency"] for r in load if r["phase"] == "concurrent")
    lines = [
        f"| server | workers | 1 connection: p50 / p99 ms | {concurrency} connections: req/s (rounds) | p50 / p99 ms "
        "| req/s vs plain Starlette |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for server, workers in servers:
        sequential = _by(load, model, server, workers, "sequential")
        concurrent = _by(load, model, server, workers, "concurrent")
        floor = _by(load, model, "plain Starlette route", workers, "concurrent")
        assert sequential and concurrent
        ratio = f"{concurrent['requests_per_second'] / floor['requests_per_second']:.0%}" if floor else "-"
        lines.append(
            f"| {server} | {workers} | {sequential['p50_ms']:.2f} / {sequential['p99_ms']:.2f} "
            f"| {concurrent['requests_per_second']:.0f} ({concurrent['slowest']:.0f}-{concurrent['fastest']:.0f}) "
            f"| {concurrent['p50_ms']:.2f} / {concurrent['p99_ms']:.2f} "
            f"| {ratio} |"
        )
    return lines


def _targets(load: list[dict[str, Any]], alone: dict[str, float]) -> list[str]:
    sequential = _by(load, "digits", "modeltune deploy", 1, "sequential")
    floor = _by(load, "digits", "plain Starlette route", 1, "sequential")
    lines = []
    if sequential and floor:
        verdict = "met" if sequential["p99_ms"] < P99_TARGET_MS else "not met"
        lines.append(
            f"- p99 of single-row requests at 1 worker, digits model, one connection: {sequential['p99_ms']:.1f} ms "
            f"(target < {P99_TARGET_MS:.0f} ms: {verdict}); the plain Starlette route: {floor['p99_ms']:.1f} ms; "
            f"the model's `predict` alone on one row, in process: p50 {alone['p50_ms']:.1f} / p99 "
            f"{alone['p99_ms']:.1f} ms."
        )
    for model in ("digits", "trivial"):
        for workers in (1, 2):
            ours = _by(load, model, "modeltune deploy", workers, "concurrent")
            floor = _by(load, model, "plain Starlette route", workers, "concurrent")
            if ours and floor:
                ratio = ours["requests_per_second"] / floor["requests_per_second"]
                verdict = "met" if ratio >= THROUGHPUT_TARGET else "not met"
                lines.append(
                    f"- throughput, {model} model, {workers} worker(s): {ratio:.1%} of the plain Starlette route "
                    f"(target >= {THROUGHPUT_TARGET:.0%}: {verdict})."
                )
    return lines


def _startup(startup: list[dict[str, Any]]) -> list[str]:
    lines = ["| server | workers | median s | min - max s |", "|---|--:|--:|--:|"]
    for server, workers in dict.fromkeys((r["server"], r["workers"]) for r in startup):
        seconds = [r["seconds_to_first_ping_200"] for r in startup if (r["server"], r["workers"]) == (server, workers)]
        lines.append(
            f"| {server} | {workers} | {statistics.median(seconds):.2f} | {min(seconds):.2f} - {max(seconds):.2f} |"
        )
    return lines


def write_summary(results: dict[str, Any], path: Path) -> None:
    """Write the summary of ``results`` (as run.py records them) to ``path``."""
    env, load = results["environment"], results["load"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    text = [
        "# Serving benchmark",
        "",
        f"Generated {env['date']} by `{env['command']}` (commit {env['commit']}); Python {env['python']}, "
        f"{env['cpus']} CPUs shared with other work (load average {env['load_average_before'][0]:.2f} before, "
        f"{env['load_average_after'][0]:.2f} after); {packages}.",
        "",
        "Every server runs on 127.0.0.1 under uvicorn and answers `POST /invocations` with one digits row "
        "(64 values, `text/csv`, `Accept: application/json`). The load generator is a Python thread per "
        "connection, each with one keep-alive `http.client` connection, in the benchmark's own process on the "
        "same two cores. Each server gets 50 warm-up requests, then a one-connection phase (latency) and a "
        "concurrent phase (throughput), each bounded in requests and in time. The plain routes (floor.py) "
        "decode the CSV, call `predict` and answer JSON inline, with no handler lookup or content negotiation. "
        f"Every number is the median over {1 + max(r['round'] for r in load)} rounds that interleave the servers.",
        "",
        "## Digits model (examples/digits/train.py defaults: RandomForest, 100 trees, depth 10)",
        "",
        *_table(load, "digits"),
        "",
        "## Trivial model (predict returns zeros: the servers' own cost)",
        "",
        *_table(load, "trivial"),
        "",
        "## Targets",
        "",
        *_targets(load, results["predict_alone"]),
        "",
        "## Start-up: seconds from starting the process to the first 200 from /ping (digits model)",
        "",
        *_startup(results["startup"]),
        "",
    ]
    path.write_text("\n".join(text))
