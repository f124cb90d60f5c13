"""How fast the console and the REST API answer for a tuning job of 10,000 training jobs, and how soon a
training job that ends shows up in the live updates.

1. Seeds a store directly (one bulk insert) with a Completed tuning job ``big`` of 10,000 training jobs,
   each with three objective values, then starts a real ``modeltune serve`` over it and times every page
   and list endpoint (``--requests`` requests each after two warm-up requests).
2. Creates a tuning job through the API whose training jobs take about a second each, follows its
   event stream, and records for every training job the seconds from its recorded end to the event
   that reports it.

Results: ``benchmarks/results/web/results.json`` and ``results.md``.

    nice .venv/bin/python -m benchmarks.web.run [--jobs 10000] [--requests 20] [--store URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from modeltune.core import TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo
from modeltune.store.schema import MetricValueRow, TrainingJobRow

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "web"
TOY = ROOT / "tests" / "fixtures" / "toy_train.py"
BUDGET_MS = 200.0
LIVE_BUDGET_S = 2.0


def spec(name: str, max_jobs: int, **training: Any) -> dict[str, Any]:
    """The toy spec (tests/fixtures/toy_train.py): minimise loss over x, k and kind."""
    return {
        "name": name,
        "training": {
            "command": ["python", str(TOY)],
            "source_dir": str(TOY.parent),
            "metric_definitions": [{"name": "loss", "regex": r"loss: (-?[0-9.eE+-]+)"}],
            **training,
        },
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {
            "x": {"type": "Continuous", "min": 0.0, "max": 1.0},
            "k": {"type": "Integer", "min": 1, "max": 3},
            "kind": {"type": "Categorical", "values": ["a", "b"]},
        },
        "strategy": "Random",
        "limits": {"max_jobs": max_jobs, "max_parallel_jobs": 1},
        "random_seed": 1,
    }


def seed(store: Store, count: int) -> None:
    """A Completed tuning job ``big`` with ``count`` training jobs and three objective values each."""
    checked = parse_spec(spec("big", count))
    job = repo.create_tuning_job(store, "big", checked.model_dump(mode="json"))
    folder = store.jobs_folder() / "big"
    rng = random.Random(0)
    start = utcnow() - timedelta(days=1)
    rows, values = [], []
    for number in range(1, count + 1):
        x, k, kind = rng.random(), rng.randint(1, 3), rng.choice("ab")
        loss = (x - 0.3) ** 2 + 0.01 * k + (0.1 if kind == "b" else 0.0)
        began = start + timedelta(seconds=5 * number)
        name = f"big-{number:05d}"
        rows.append(
            {
                "tuning_job_id": job.id,
                "number": number,
                "name": name,
                "status": TrainingJobStatus.COMPLETED.value,
                "hyperparameters": {"x": x, "k": k, "kind": kind},
                "final_objective": loss,
                "created_at": began,
                "started_at": began,
                "ended_at": began + timedelta(seconds=4),
                "exit_code": 0,
                "log_path": str(folder / name / "log.txt"),
                "output_dir": str(folder / name),
                "retryable": False,
            }
        )
    with store.write() as session:
        session.execute(insert(TrainingJobRow), rows)
    with store.read() as session:
        ids = dict(session.execute(select(TrainingJobRow.name, TrainingJobRow.id)).all())
    for row in rows:
        for step in (1, 2, 3):
            value = row["final_objective"] + (3 - step) * 0.1
            moment = row["started_at"] + timedelta(seconds=step)
            values.append(
                {"training_job_id": ids[row["name"]], "name": "loss", "value": value, "step": step, "timestamp": moment}
            )
    with store.write() as session:
        session.execute(insert(MetricValueRow), values)
    repo.update_tuning_job(store, job.id, status=TuningJobStatus.COMPLETED, ended_at=utcnow())


def start_server(home: Path, store_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "MODELTUNE_HOME": str(home)}
    if store_url:
        env["MODELTUNE_STORE"] = store_url
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(
        [sys.executable, "-m", "modeltune", "serve", "--port", "0"], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    deadline = time.monotonic() + 120
    while not (found := re.search(r"http://127\.0\.0\.1:\d+", (home / "serve.log").read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"modeltune serve did not start:\n{(home / 'serve.log').read_text()}")
        time.sleep(0.1)
    return process, found.group()


def paths(jobs: int) -> dict[str, str]:
    """The pages and list endpoints timed, for a tuning job of ``jobs`` training jobs."""
    middle, last_page, base = jobs // 2, max(0, jobs - 100), "/api/v1/tuning-jobs/big"
    return {
        "page: job list /": "/",
        "page: job /jobs/big": "/jobs/big",
        "page: one training job": f"/jobs/big/training-jobs/{middle}",
        "page: compare /compare?jobs=big": "/compare?jobs=big",
        "page: create /create?from=big": "/create?from=big",
        "api: list tuning jobs": "/api/v1/tuning-jobs",
        "api: training jobs by objective (first 100)": "/api/v1/tuning-jobs/big/training-jobs?sort_by=objective",
        "api: training jobs by number (first 100)": "/api/v1/tuning-jobs/big/training-jobs?sort_by=number",
        "api: training jobs by time (last 100)": f"{base}/training-jobs?sort_by=time&next_token={last_page}",
        "api: one training job with its metrics": f"/api/v1/tuning-jobs/big/training-jobs/{middle}",
    }


# Not pages or lists, reported for information: describe (the CLI's function, which reads every training job
# for SageMaker's counters and completion details), the whole analytics table and the charts of every point.
HEAVY = {
    "api: describe big (every training job)": "/api/v1/tuning-jobs/big",
    "api: analytics JSON (every training job)": "/api/v1/tuning-jobs/big/analytics",
    "api: charts Vega-Lite JSON (every training job)": "/api/v1/tuning-jobs/big/charts",
}


def time_requests(client: httpx.Client, path: str, count: int, warm_up: int = 2) -> dict[str, float]:
    """p50, p95 and max milliseconds of ``count`` GET requests after ``warm_up`` untimed ones."""
    for _ in range(warm_up):
        client.get(path).raise_for_status()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "max_ms": round(times[-1], 1),
    }


def live_delays(client: httpx.Client, store: Store, jobs: int) -> list[float]:
    """Seconds from each training job's recorded end to the event that first reports it."""
    body = spec("live", jobs, static_hyperparameters={"mode": "sleep", "seconds": 1.0})
    client.post("/api/v1/tuning-jobs", json=body).raise_for_status()
    seen: dict[int, float] = {}
    with client.stream("GET", "/api/v1/tuning-jobs/live/events", timeout=300) as events:
        kind = ""
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "update":
                ended = json.loads(line[6:])["TrainingJobsEnded"]
                for n in range(1, ended + 1):
                    seen.setdefault(n, time.time())
            elif kind == "end":
                break
    tuning_job = repo.get_tuning_job(store, "live")
    delays = []
    for t in sorted(repo.list_training_jobs(store, tuning_job.id), key=lambda j: j.ended_at or datetime.max):
        assert t.ended_at is not None
        order = len(delays) + 1
        ended = (t.ended_at - datetime(1970, 1, 1)).total_seconds()  # stored as naive UTC
        delays.append(round(seen[order] - ended, 3))
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="training jobs in the seeded tuning job")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per path")
    parser.add_argument("--live-jobs", type=int, default=8, help="training jobs of the live-update run")
    parser.add_argument("--charts", action="store_true", help="also time the charts of the big job once (minutes)")
    parser.add_argument("--store", default=None, help="database URL (default: SQLite in a temporary home)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        store = Store(args.store, home=home)
        began = time.perf_counter()
        seed(store, args.jobs)
        print(f"seeded {args.jobs} training jobs in {time.perf_counter() - began:.1f} s")
        process, url = start_server(home, args.store)
        try:
            with httpx.Client(base_url=url, timeout=120) as client:
                timed = paths(args.jobs).items()
                timings = {label: time_requests(client, path, args.requests) for label, path in timed}
                heavy = {
                    label: time_requests(client, path, 3 if "describe" in label else 1, 0)
                    for label, path in HEAVY.items()
                    if args.charts or "charts" not in label
                }
                for label, result in {**timings, **heavy}.items():
                    print(f"{label}: {result}")
                delays = live_delays(client, store, args.live_jobs)
                print(f"live update delays (s): {delays}")
        finally:
            process.terminate()
            process.wait(30)
    results = {
        "training_jobs": args.jobs,
        "requests_per_path": args.requests,
        "store": "SQLite" if args.store is None else args.store.split(":")[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores (shared, nice)",
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "budget_ms": BUDGET_MS,
        "pages_and_lists": timings,
        "heavy_for_information": heavy,
        "all_pages_and_lists_within_budget": all(t["p95_ms"] < BUDGET_MS for t in timings.values()),
        "live_update_delays_s": delays,
        "live_update_max_s": max(delays),
        "live_update_within_budget": max(delays) < LIVE_BUDGET_S,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Web console and REST API with {args.jobs:,} training jobs ({results['store']})",
        "",
        f"{args.requests} requests per path after two warm-ups, one client, on {results['machine']}; "
        f"1-minute load average {results['load_average_1min'][0]} before and {results['load_average_1min'][1]} after.",
        "",
        "| request | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for label, t in {**timings, **heavy}.items():
        lines.append(f"| {label} | {t['p50_ms']} | {t['p95_ms']} | {t['max_ms']} |")
    lines += [
        "",
        f"Live updates: seconds from a training job's recorded end to the event reporting it, over "
        f"{len(delays)} training jobs: max {max(delays)}, median {statistics.median(delays)}.",
    ]
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
