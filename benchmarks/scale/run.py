"""``python -m benchmarks.scale.run``: a tuning job of 10,000 training jobs, read back and searched.

Seeds one tuning job with 10,000 Completed training jobs (10 objective values each, as a curve) straight
into a SQLite and a PostgreSQL store, then times what users run on it: ``describe``, ``list``,
``training-jobs --limit 50 --sort objective`` and the analytics DataFrame (in-process medians of 5
calls, and the whole command line once). Also the CPU time of one Bayesian suggestion with 1,000, 5,000
and 10,000 observations. Results go to ``benchmarks/results/scale/`` (``results.json``, ``SUMMARY.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

OUT = Path(__file__).parents[1] / "results" / "scale"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STEPS = 10


def spec(name: str) -> dict[str, Any]:
    """A Bayesian tuning job over three mixed ranges (never run: its training jobs are seeded)."""
    return {
        "name": name,
        "training": {"command": [sys.executable, "-c", "pass"], "metric_definitions": []},
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {
            "x": {"type": "Continuous", "min": 0.0, "max": 1.0},
            "lr": {"type": "Continuous", "min": 1e-5, "max": 1.0, "scaling": "Logarithmic"},
            "depth": {"type": "Integer", "min": 1, "max": 12},
            "kind": {"type": "Categorical", "values": ["a", "b", "c"]},
        },
        "limits": {"max_jobs": 20000, "max_parallel_jobs": 4},
        "random_seed": 0,
    }


def seed(store: Any, name: str, count: int) -> None:
    """Store tuning job ``name`` (Completed) with ``count`` Completed training jobs and their curves."""
    from modeltune.core import TrainingJobStatus, TuningJobStatus, utcnow
    from modeltune.spec import parse_spec
    from modeltune.store import repository as repo
    from modeltune.store.schema import MetricValueRow, TrainingJobRow

    job = repo.create_tuning_job(store, name, parse_spec(spec(name)).model_dump(mode="json"))
    rng = np.random.default_rng(0)
    start = utcnow() - timedelta(hours=count / 100)
    jobs, values = [], []
    for number in range(1, count + 1):
        began = start + timedelta(seconds=36 * number)
        loss = float(rng.random())
        jobs.append(
            {
                "tuning_job_id": job.id,
                "number": number,
                "name": f"{name}-{number:05d}",
                "status": TrainingJobStatus.COMPLETED,
                "hyperparameters": {
                    "x": float(rng.random()),
                    "lr": float(10 ** rng.uniform(-5, 0)),
                    "depth": int(rng.integers(1, 13)),
                    "kind": "abc"[int(rng.integers(3))],
                },
                "final_objective": loss,
                "created_at": began,
                "started_at": began,
                "ended_at": began + timedelta(seconds=30),
                "log_path": "",
                "output_dir": "",
                "retryable": False,
            }
        )
    with store.write() as session:
        session.execute(insert(TrainingJobRow), jobs)
    ids = {j.name: j.id for j in repo.list_training_jobs(store, job.id)}
    for row in jobs:
        for step in range(1, STEPS + 1):
            value = row["final_objective"] + (STEPS - step) / STEPS
            values.append(
                {
                    "training_job_id": ids[row["name"]],
                    "name": "loss",
                    "value": value,
                    "step": step,
                    "timestamp": row["ended_at"],
                }
            )
    with store.write() as session:
        session.execute(insert(MetricValueRow), values)
    repo.update_tuning_job(store, job.id, status=TuningJobStatus.COMPLETED, ended_at=utcnow())


def median_ms(call: Callable[[], Any], repeats: int = 5) -> float:
    """Median wall milliseconds of ``call`` over ``repeats`` calls, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def command_ms(url: str, *args: str) -> float:
    """Wall milliseconds of one whole ``modeltune`` command (interpreter start-up included)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "modeltune", *args, "--store", url], check=True, capture_output=True)
    return round((time.perf_counter() - t0) * 1000, 1)


def read_side(url: str, count: int) -> dict[str, Any]:
    """Seed a tuning job of ``count`` training jobs into ``url`` and time reading it back."""
    from modeltune.analytics import describe_tuning_job, training_job_list, trials_dataframe, tuning_job_summaries
    from modeltune.store import Store

    store = Store(url)
    name = f"scale-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    seed(store, name, count)
    seeded = time.perf_counter() - t0
    try:
        return {
            "training_jobs": count,
            "seed_seconds": round(seeded, 1),
            "describe_ms": median_ms(lambda: describe_tuning_job(store, name)),
            "list_ms": median_ms(lambda: tuning_job_summaries(store)),
            "training_jobs_top50_ms": median_ms(lambda: training_job_list(store, name, "objective", limit=50)),
            "dataframe_ms": median_ms(lambda: trials_dataframe(store, name)),
            "cli_describe_ms": command_ms(url, "describe", name),
            "cli_training_jobs_top50_ms": command_ms(
                url, "training-jobs", name, "--limit", "50", "--sort", "objective"
            ),
        }
    finally:
        from modeltune.controller import service

        service.delete(store, name)


def suggestion_cpu(size: int, repeats: int = 3) -> float:
    """Median CPU seconds of one Bayesian suggestion after ``size`` random observations of Hartmann-6."""
    from benchmarks.optimizers.timing import TimingTask, run_timing

    seconds = [run_timing(TimingTask("modeltune-bayesian", size, r))["cpu_seconds"] for r in range(repeats)]
    return round(statistics.median(seconds), 3)


def summary(results: dict[str, Any]) -> str:
    """SUMMARY.md: the read timings per store and the suggestion times."""
    lines = [
        "# A tuning job of 10,000 training jobs",
        "",
        f"Machine: {results['machine']}; load average at start {results['load']}. Medians of 5 in-process calls",
        "(wall ms); `cli` rows are one whole command, Python start-up and imports included.",
        "",
        "| store | describe | list | training-jobs top 50 | DataFrame | cli describe | cli training-jobs |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for store, r in results["stores"].items():
        lines.append(
            f"| {store} | {r['describe_ms']} | {r['list_ms']} | {r['training_jobs_top50_ms']} | {r['dataframe_ms']}"
            f" | {r['cli_describe_ms']} | {r['cli_training_jobs_top50_ms']} |"
        )
    lines += ["", "CPU seconds of one Bayesian suggestion (median of 3, Hartmann-6, random history):", ""]
    lines += ["| observations | CPU s |", "|--:|--:|"]
    lines += [f"| {size} | {cpu} |" for size, cpu in results["suggestion_cpu_seconds"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.run", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="training jobs in the seeded tuning job")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL store URL ('' to skip)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    stores = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["MODELTUNE_HOME"] = home
        stores["SQLite"] = read_side(f"sqlite:///{home}/store.db", args.count)
        if args.postgres:
            stores["PostgreSQL"] = read_side(args.postgres, args.count)
    results = {
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "load": round(os.getloadavg()[0], 2),
        "stores": stores,
        "suggestion_cpu_seconds": {size: suggestion_cpu(size) for size in (1000, 5000, 10000)},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "SUMMARY.md").write_text(summary(results))
    print(summary(results))


if __name__ == "__main__":
    main()
