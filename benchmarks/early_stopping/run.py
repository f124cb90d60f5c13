"""Command line: run the early-stopping benchmark (resumable) and write SUMMARY.md.

Example::

    nice python -m benchmarks.early_stopping.run --seeds 10 --trials 60 --workers 2
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import sys
import time
from multiprocessing import get_context
from pathlib import Path

from benchmarks.early_stopping.problems import PROBLEMS
from benchmarks.early_stopping.record import record_all
from benchmarks.early_stopping.runner import RUN_FIELDS, TRIAL_FIELDS, Task, run_task
from benchmarks.early_stopping.summary import write_summary
from benchmarks.early_stopping.tuners import METHODS
from benchmarks.early_stopping.variants import VARIANTS

DEFAULT_OUT = Path("benchmarks/results/early_stopping")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.quick:
        args.seeds, args.trials, args.out = min(args.seeds, 2), min(args.trials, 20), args.out / "quick"
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    record_all([p for p in args.problems if PROBLEMS[p].table], args.workers)
    done = _done(args.out / "runs.csv")
    tasks = [
        Task(p, m, seed, args.trials, args.simulated_workers)
        for p in args.problems
        for m in args.methods
        for seed in range(args.seeds)
        if (p, m, seed) not in done
    ]
    # Slow runs first (GP-based methods on the longest curves), so the two processes finish together.
    tasks.sort(key=lambda t: (t.method.startswith("optuna"), -PROBLEMS[t.problem].max_resource))
    print(f"{len(tasks)} runs to do ({len(done)} already in {args.out / 'runs.csv'})", flush=True)
    with get_context("spawn").Pool(args.workers) as pool:
        for i, (run, trials) in enumerate(pool.imap_unordered(run_task, tasks), 1):
            _append(args.out / "runs.csv", RUN_FIELDS, [run])
            _append(args.out / "trials.csv", TRIAL_FIELDS, trials)
            print(
                f"[{i}/{len(tasks)}] {run['problem']} {run['method']} seed {run['seed']}: "
                f"best {run['best_true']:.4g}, resource {run['resource']}, {run['seconds']:.0f} s",
                flush=True,
            )
    wall = time.time() - started
    header = [
        f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python -m benchmarks.early_stopping.run "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}` ({args.workers} processes); "
        f"Python {platform.python_version()}, see requirements.txt for versions.",
        "",
        f"{args.trials} trials per run on {args.simulated_workers} simulated workers (one time unit per step); "
        "medians over seeds. *best final* is the true full-length value of the configuration with the best "
        "recorded value (the value at the last step it ran, as modeltune picks its best training job, "
        "stopped ones included); *best reported* is that recorded value; *best of completed* is the full-length "
        "value of the best trial among those that ran to max_resource (as Optuna picks its best trial); "
        "*best tried* is the best full-length "
        "value among all configurations started. *resource* is the sum of steps run; *makespan* the simulated "
        "time until the last trial ended. `mt-bayes` is the no-early-stopping baseline; `variant-*` rows are "
        "modeltune with a stopping rule patched in this harness (variants.py), not modeltune as shipped.",
    ]
    print(f"wrote {write_summary(args.out, header)} ({wall / 60:.1f} min)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.early_stopping.run", description=__doc__)
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per (problem, method)")
    parser.add_argument("--trials", type=int, default=60, help="trials per run, the same for every method")
    parser.add_argument("--workers", type=int, default=2, help="processes running the benchmark")
    parser.add_argument("--simulated-workers", type=int, default=4, help="parallel training jobs simulated")
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument(
        "--methods", nargs="+", choices=[*METHODS, *VARIANTS], default=list(METHODS), help="variants: see variants.py"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, 20 trials, out/quick")
    return parser


def _done(path: Path) -> set[tuple[str, str, int]]:
    if not path.exists():
        return set()
    with open(path, newline="") as handle:
        return {(r["problem"], r["method"], int(r["seed"])) for r in csv.DictReader(handle)}


def _append(path: Path, fields: list[str], rows: list[dict]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
