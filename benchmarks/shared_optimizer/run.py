"""Many processes on one study: modeltune's shared Optimizer against Optuna's RDBStorage on the same PostgreSQL.

``nice .venv/bin/python -m benchmarks.shared_optimizer.run`` runs, each on a fresh database, PROCESSES
processes x N evaluations of a 5 ms objective (4 continuous parameters): Optuna TPE and modeltune Random,
then Optuna GPSampler and modeltune Bayesian. It reports evaluations per second (from the common start
to the last tell) and the median time of an ask (with its suggestions) around 100, 400 and 800
evaluations in the study, and writes ``benchmarks/results/shared_optimizer/results.json`` and
``SUMMARY.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parents[1] / "results" / "shared_optimizer"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
# Seconds the processes get to import and open the study before they all start at once.
WARM_UP_SECONDS = 15.0
# Trial numbers around each point where ask times are read (a window of 50 evaluations).
CHECKPOINTS = (100, 400, 800)
WINDOW = 25


def database(action: str, name: str) -> None:
    """Create or drop a database on the local PostgreSQL."""
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"' if action == "create" else f'DROP DATABASE "{name}" WITH (FORCE)')


def one_run(system: str, sampler: str, processes: int, evaluations: int) -> dict[str, Any]:
    """``processes`` processes x ``evaluations`` on a fresh database; their timings summarised."""
    db = f"bench_{uuid.uuid4().hex[:10]}"
    database("create", db)
    try:
        url = POSTGRES.format(db=db)
        if system == "optuna":
            # Optuna's RDBStorage fails when processes create its schema at once (a CREATE TYPE race), so its
            # study is made here first; modeltune's processes create theirs concurrently.
            import optuna

            optuna.create_study(study_name="shared", storage=url, direction="minimize")
        start_at = time.time() + WARM_UP_SECONDS
        args = [system, sampler, url, "shared", str(evaluations), str(start_at)]
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.shared_optimizer.process", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        lines: list[dict[str, float]] = []
        for process in running:
            out, err = process.communicate(timeout=3600)
            if process.returncode != 0:
                raise RuntimeError(f"{system} {sampler} process failed: {err.strip()[-3000:]}")
            lines += [json.loads(line) for line in out.splitlines()]
    finally:
        database("drop", db)
    total = processes * evaluations
    numbers = sorted(int(line["number"]) for line in lines)
    wall = max(line["ended"] for line in lines) - start_at
    asks: dict[str, float | None] = {}
    for point in CHECKPOINTS:
        near = [line["ask"] for line in lines if abs(line["number"] - point) <= WINDOW]
        asks[str(point)] = round(statistics.median(near), 4) if point <= total and near else None
    return {
        "system": system,
        "sampler": sampler,
        "processes": processes,
        "evaluations": len(lines),
        "distinct_numbers": len(set(numbers)),
        "wall_seconds": round(wall, 2),
        "evaluations_per_second": round(len(lines) / wall, 1),
        "median_ask_seconds": asks,
        "max_ask_seconds": round(max(line["ask"] for line in lines), 3),
    }


def summary(results: list[dict[str, Any]]) -> str:
    """The results as a markdown table."""
    rows = [
        "| system | sampler | processes x evaluations | evaluations/s | median ask @100 | @400 | @800 | slowest ask "
        "| load before | command |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        ask = r["median_ask_seconds"]
        cells = [f"{ask[str(p)]:.3f} s" if ask[str(p)] is not None else "-" for p in CHECKPOINTS]
        rows.append(
            f"| {r['system']} | {r['sampler']} | {r['processes']} x {r['evaluations'] // r['processes']} | "
            f"{r['evaluations_per_second']} | {' | '.join(cells)} | {r['max_ask_seconds']:.2f} s | "
            f"{r['load_before']} | `{r['command']}` |"
        )
    return "\n".join(
        [
            "# Shared ask/tell: modeltune Optimizer vs Optuna RDBStorage on one PostgreSQL",
            "",
            f"On {platform.node()} (2 cores shared with other work; Python {platform.python_version()}).",
            "Each row: a fresh database, every process started at the same moment, a 5 ms objective over 4",
            "continuous parameters; evaluations/s from the common start to the last tell; ask times are medians",
            f"over the asks within {WINDOW} evaluations of each point (the ask includes the sampler's work).",
            "",
            *rows,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--evaluations", type=int, default=100, help="per process, for TPE and Random")
    parser.add_argument("--gp-evaluations", type=int, default=100, help="per process, for GPSampler and Bayesian")
    parser.add_argument("--only", default=None, help="run only this system:sampler, e.g. modeltune:Random")
    args = parser.parse_args()
    plan = [
        ("optuna", "TPE", args.evaluations),
        ("modeltune", "Random", args.evaluations),
        ("optuna", "GP", args.gp_evaluations),
        ("modeltune", "Bayesian", args.gp_evaluations),
    ]
    command = ("python -m benchmarks.shared_optimizer.run " + " ".join(sys.argv[1:])).strip()
    # Rows of earlier runs with other settings stay: a run replaces only the rows it measures again.
    path = RESULTS / "results.json"
    results: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    for system, sampler, evaluations in plan:
        if args.only and args.only != f"{system}:{sampler}":
            continue
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        result = {**one_run(system, sampler, args.processes, evaluations), "command": command, "load_before": load}
        print(json.dumps(result), flush=True)
        same = (system, sampler, args.processes, evaluations * args.processes)
        results = [r for r in results if (r["system"], r["sampler"], r["processes"], r["evaluations"]) != same]
        results.append(result)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "SUMMARY.md").write_text(summary(results))


if __name__ == "__main__":
    main()
