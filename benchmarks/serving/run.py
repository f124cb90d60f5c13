"""Command line: load-test ``modeltune deploy`` against plain handlers on loopback; write results and SUMMARY.md.

Example::

    nice .venv/bin/python -m benchmarks.serving.run            # about 6 minutes on 2 busy cores
    nice .venv/bin/python -m benchmarks.serving.run --quick    # smoke test, results in quick/
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.serving.load import LoadResult, run_load
from benchmarks.serving.summary import write_summary

OUT = Path("benchmarks/results/serving")
DIGITS = Path("examples/digits")
HERE = Path(__file__).parent
PACKAGES = ["modeltune", "numpy", "scikit-learn", "starlette", "fastapi", "uvicorn", "h11", "httptools"]
HEADERS = {"Content-Type": "text/csv", "Accept": "application/json"}


@dataclass(frozen=True)
class Server:
    """One server configuration: modeltune's or a floor's, with its worker count and floor options."""

    kind: str  # "modeltune", "starlette" or "fastapi" (the plain handlers of floor.py)
    workers: int
    options: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        name = "modeltune deploy" if self.kind == "modeltune" else f"plain {self.kind.capitalize()} route"
        return " ".join([name, *self.options])

    def command(self, port: int) -> list[str]:
        if self.kind == "modeltune":
            common = ["-m", "modeltune", "deploy", "--host", "127.0.0.1"]
        else:
            common = ["-m", "benchmarks.serving.floor", "--framework", self.kind, *self.options]
        return [sys.executable, *common, "--port", str(port), "--workers", str(self.workers)]


def _servers(http_options: bool) -> dict[str, list[Server]]:
    main = [
        Server("modeltune", 1),
        Server("starlette", 1),
        Server("fastapi", 1),
        Server("modeltune", 2),
        Server("starlette", 2),
    ]
    variants = [Server("starlette", 1, ("--access-log",)), Server("starlette", 2, ("--uvicorn-binds",))]
    if http_options:  # httptools installed: what h11, uvicorn's pure-Python parser, would cost
        variants.append(Server("starlette", 1, ("--http", "h11")))
    return {"digits": main, "trivial": main + variants}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


class Running:
    """A server process started by the benchmark, stopped by its pid (and its process group)."""

    def __init__(self, server: Server, model: tuple[Path, Path], log: Path):
        self.port = _free_port()
        env = {**os.environ, "SM_MODEL_DIR": str(model[0]), "SAGEMAKER_PROGRAM": str(model[1])}
        started = time.perf_counter()
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                server.command(self.port), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        while _ping(self.port) != 200:
            if self.process.poll() is not None or time.perf_counter() - started > 120:
                self.stop()
                raise RuntimeError(f"{server.label} did not start; see {log}")
            time.sleep(0.01)
        self.startup_seconds = time.perf_counter() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _bodies(rows: int = 200) -> list[bytes]:
    """Single-row CSV bodies: the first ``rows`` digits without their label."""
    lines = (DIGITS / "data" / "digits.csv").read_text().splitlines()[1 : rows + 1]
    return [line.rsplit(",", 1)[0].encode() for line in lines]


def _digits_model(cache: Path) -> Path:
    """The digits example's model with train.py's default hyperparameters, trained once into ``cache``."""
    model_dir = cache / "digits-model"
    if not (model_dir / "model.joblib").exists():
        subprocess.run(
            [sys.executable, "train.py", "--model-dir", str(model_dir.resolve())],
            cwd=DIGITS,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return model_dir


def _measure(
    server: Server,
    model: str,
    location: tuple[Path, Path],
    bodies: list[bytes],
    round_number: int,
    args: Any,
    log: Path,
) -> list[dict[str, Any]]:
    """Start ``server``, warm it up, run the one-connection and the concurrent phase, stop it."""
    running = Running(server, location, log)
    records = []
    try:
        run_load(running.port, bodies, HEADERS, 50, 1, args.max_seconds)  # warm-up
        for phase, count, concurrency in (
            ("sequential", args.sequential, 1),
            ("concurrent", args.requests, args.concurrency),
        ):
            result = run_load(running.port, bodies, HEADERS, count, concurrency, args.max_seconds)
            records.append(_record(model, server, phase, concurrency, round_number, result))
            print(
                f"round {round_number} {model}: {server.label}, {server.workers} worker(s), {phase}: "
                f"{records[-1]['requests_per_second']} req/s, p50 {records[-1]['p50_ms']} ms, "
                f"p99 {records[-1]['p99_ms']} ms",
                flush=True,
            )
    finally:
        running.stop()
    return records


def _predict_alone(model_dir: Path, bodies: list[bytes], count: int) -> dict[str, float]:
    """p50 and p99 (ms) of the digits model's ``predict`` on one decoded row, in this process, without HTTP."""
    import joblib
    import numpy as np

    model = joblib.load(model_dir / "model.joblib")
    rows = [np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2) for body in bodies]
    for row in rows[:50]:
        model.predict(row)
    latencies = []
    for number in range(count):
        started = time.perf_counter()
        model.predict(rows[number % len(rows)])
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies, 99)), 3),
    }


def _record(
    model: str, server: Server, phase: str, concurrency: int, round_number: int, result: LoadResult
) -> dict[str, Any]:
    if not len(result.latencies_ms):
        raise RuntimeError(f"{server.label}: all {result.failures} requests of the {phase} phase failed")
    return {
        "round": round_number,
        "model": model,
        "server": server.label,
        "kind": server.kind,
        "workers": server.workers,
        "phase": phase,
        "concurrency": concurrency,
        "requests": len(result.latencies_ms),
        "failures": result.failures,
        "seconds": round(result.seconds, 3),
        "requests_per_second": round(result.requests_per_second, 1),
        "p50_ms": round(result.percentile(50), 3),
        "p90_ms": round(result.percentile(90), 3),
        "p99_ms": round(result.percentile(99), 3),
        "max_ms": round(float(result.latencies_ms.max()), 3),
    }


def _environment(argv: list[str]) -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {
        "date": dt.datetime.now().isoformat(timespec="minutes"),
        "command": "python -m benchmarks.serving.run " + " ".join(argv),
        "commit": commit or None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "packages": {p: version(p) for p in PACKAGES},
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serving.run", description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000, help="requests of the concurrent phase (default 2000)")
    p.add_argument("--sequential", type=int, default=500, help="requests of the one-connection phase (default 500)")
    # 8 rather than 4: keep-alive connections stay with the worker that accepted them, and 4 split
    # unevenly over 2 workers often enough to halve their throughput in a round.
    p.add_argument("--concurrency", type=int, default=8, help="connections of the concurrent phase (default 8)")
    p.add_argument("--max-seconds", type=float, default=60.0, help="time limit of each phase (default 60)")
    p.add_argument("--rounds", type=int, default=3, help="rounds over all servers (default 3)")
    p.add_argument("--startup-repeats", type=int, default=3, help="start-ups timed per server (default 3)")
    p.add_argument("--out", type=Path, default=OUT, help=f"results folder (default {OUT})")
    p.add_argument("--quick", action="store_true", help="smoke test: 200/100 requests, 1 round, 1 start-up, out/quick")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.quick:
        args.requests, args.sequential, args.rounds, args.startup_repeats = 200, 100, 1, 1
        args.out = args.out / "quick"
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "cache" / "servers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    models = {
        "digits": (_digits_model(args.out / "cache"), DIGITS / "train.py"),
        "trivial": (HERE, HERE / "trivial.py"),
    }
    models = {name: (folder.resolve(), script.resolve()) for name, (folder, script) in models.items()}
    http_options = importlib.util.find_spec("httptools") is not None
    environment = _environment(argv)
    bodies = _bodies()
    load: list[dict[str, Any]] = []
    startup: list[dict[str, Any]] = []
    # Rounds interleave the servers, so that a busy minute on the shared machine spreads over all of them.
    for round_number in range(args.rounds):
        for model, servers in _servers(http_options).items():
            for server in servers:
                load.extend(_measure(server, model, models[model], bodies, round_number, args, log))
    for repeat in range(args.startup_repeats):
        for server in (Server("modeltune", 1), Server("modeltune", 2), Server("starlette", 1)):
            running = Running(server, models["digits"], log)
            running.stop()
            startup.append(
                {
                    "server": server.label,
                    "workers": server.workers,
                    "repeat": repeat,
                    "seconds_to_first_ping_200": round(running.startup_seconds, 3),
                }
            )
    predict_alone = _predict_alone(models["digits"][0], bodies, args.sequential)
    environment["load_average_after"] = os.getloadavg()
    results = {"environment": environment, "load": load, "startup": startup, "predict_alone": predict_alone}
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, rows in (("results.csv", load), ("startup.csv", startup)):
        with open(args.out / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    write_summary(results, args.out / "SUMMARY.md")
    print(f"Wrote {args.out}/results.json, results.csv, startup.csv and SUMMARY.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
