"""Command line: run the warm-start benchmark (resumable) and write SUMMARY.md.

Example::

    nice python -m benchmarks.warm_start.run --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

DEFAULT_OUT = Path("benchmarks/results/warm_start")
QUICK_PROBLEMS = "branin,svm_breast_cancer"
SCENARIOS = ("cold", "identical", "transfer")
RUNS_FILE = "runs.jsonl"
# Single-threaded numerical libraries, and our own evaluation cache (not the optimizer benchmark's).
_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_CACHE_ENV = "MODELTUNE_BENCH_CACHE"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.warm_start.run", description=__doc__.splitlines()[0])
    p.add_argument("--problems", default="all", help="comma-separated names or 'all'")
    p.add_argument("--seeds", type=int, default=10, help="seeds per problem")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder (default {DEFAULT_OUT})")
    p.add_argument("--quick", action="store_true", help=f"smoke test: {QUICK_PROBLEMS}, 2 seeds")
    p.add_argument("--stop-at", default=None, help="HH:MM local time: start no new run after it, then summarise")
    p.add_argument("--summary-only", action="store_true", help="only regenerate SUMMARY.md")
    return p


def _past(stop_at: str | None) -> bool:
    if stop_at is None:
        return False
    hour, minute = (int(x) for x in stop_at.split(":"))
    now = dt.datetime.now()
    return (now.hour, now.minute) >= (hour, minute)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault(_CACHE_ENV, str(DEFAULT_OUT / "cache"))
    from benchmarks.optimizers.results import append_record, done_keys, read_records
    from benchmarks.warm_start import problems, runner, summary

    if args.quick:
        args.problems, args.seeds = QUICK_PROBLEMS, 2
        if args.out == DEFAULT_OUT:
            args.out = DEFAULT_OUT / "quick"
    names = [p.name for p in problems.problems()] if args.problems == "all" else args.problems.split(",")
    for name in names:
        problems.get(name)  # fail fast on a typo
    args.out.mkdir(parents=True, exist_ok=True)
    runs = args.out / RUNS_FILE
    if not args.summary_only:
        done = done_keys(runs, ("problem", "scenario", "seed"))
        tasks = [
            (name, scenario, seed)
            for seed in range(args.seeds)
            for name in names
            for scenario in SCENARIOS
            if (name, scenario, seed) not in done
        ]
        started = time.time()
        with ProcessPoolExecutor(args.workers) as pool:
            pending: list[Future] = []
            for task in tasks:
                pending.append(pool.submit(runner.run_scenario, *task))
            for future in as_completed(pending):
                if _past(args.stop_at):
                    for other in pending:
                        other.cancel()
                record = future.result() if not future.cancelled() else None
                if record is None:
                    continue
                append_record(runs, record)
                print(
                    f"[{time.time() - started:6.0f}s] {record['problem']} {record['scenario']} seed {record['seed']}"
                    f" ({record['cpu_seconds']} CPU s)",
                    flush=True,
                )
    records = [r for r in read_records(runs) if r["problem"] in names and r["seed"] < args.seeds]
    header = [
        f"Generated {dt.datetime.now():%Y-%m-%d %H:%M} by `python -m benchmarks.warm_start.run "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`; strategy `Bayesian` through "
        "`modeltune.Optimizer` with `add_parent`, sequential (ask 1, tell 1)."
    ]
    descriptions = {p.name: p.description for p in problems.problems()}
    (args.out / "SUMMARY.md").write_text(summary.summary(records, descriptions, header))
    print(f"wrote {args.out / 'SUMMARY.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
