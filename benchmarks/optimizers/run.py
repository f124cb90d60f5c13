"""Command line: run the optimizer benchmark (resumable) and write SUMMARY.md.

Example::

    nice python -m benchmarks.optimizers.run --problems all --seeds 10 --budget 100 \\
        --optimizers all --workers 2 --out benchmarks/results/optimizers
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import multiprocessing
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from benchmarks.optimizers import adapters, report
from benchmarks.optimizers.environment import record_environment
from benchmarks.optimizers.problems import PROBLEMS, rf_table
from benchmarks.optimizers.problems.cache import CACHE_ENV
from benchmarks.optimizers.results import RUNS_FILE, TIMING_FILE, append_record, done_keys
from benchmarks.optimizers.runner import Task, run_task
from benchmarks.optimizers.timing import TimingTask, run_timing

DEFAULT_OUT = Path("benchmarks/results/optimizers")
QUICK_PROBLEMS = ["mixed7", "svm_breast_cancer"]
KINDS = ("synthetic", "sklearn")
# Single-threaded numerical libraries: the benchmark gets its parallelism from worker processes.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.optimizers.run", description=__doc__.splitlines()[0])
    p.add_argument("--problems", default="all", help="comma-separated names, 'all', 'synthetic' or 'sklearn'")
    p.add_argument("--optimizers", default="all", help=f"comma-separated from {', '.join(adapters.OPTIMIZERS)}")
    p.add_argument("--seeds", type=int, default=10, help="seeds per synthetic problem")
    p.add_argument("--sklearn-seeds", type=int, default=5, help="seeds per scikit-learn problem")
    p.add_argument("--budget", type=int, default=100, help="evaluations per run")
    p.add_argument("--modes", default="seq,par4", help="seq (batch 1) and/or par4 (ask 4, tell 4)")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--out", type=Path, default=None, help=f"results folder (default {DEFAULT_OUT})")
    p.add_argument("--quick", action="store_true", help="smoke test: 2 problems, 2 seeds, budget 25")
    p.add_argument("--timing-sizes", default="50,200,1000", help="history lengths for the per-suggestion timing")
    p.add_argument("--timing-repeats", type=int, default=3, help="timed suggestions per optimizer and size")
    p.add_argument("--timing-large-repeats", type=int, default=1, help="the same for histories of 500 or more")
    p.add_argument("--timing-cpu-limit", type=float, default=120.0, help="CPU seconds allowed per timed suggestion")
    p.add_argument("--no-timing", action="store_true", help="skip the per-suggestion timing run")
    p.add_argument("--stop-at", default=None, help="HH:MM local time: start no new run after it, then summarise")
    p.add_argument("--summary-only", action="store_true", help="only regenerate SUMMARY.md and the CSV files")
    return p


def _select(spec: str, known: list[str], groups: dict[str, list[str]]) -> list[str]:
    if spec in groups:
        return groups[spec]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown name(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def _order(problems: list[str]) -> list[str]:
    """Synthetic and scikit-learn problems alternating, the costliest (most dimensions) last."""
    by_kind = [sorted((n for n in problems if PROBLEMS[n].kind == k), key=lambda n: PROBLEMS[n].dims) for k in KINDS]
    mixed = [n for pair in itertools.zip_longest(*by_kind) for n in pair if n]
    return mixed


def _tasks(args: argparse.Namespace, problems: list[str], optimizers: list[str]) -> list[Task | TimingTask]:
    """Timing first, then runs seed by seed (each seed: every sequential run, then every parallel one).

    A run stopped early is so balanced over problems and optimizers.
    """
    modes = [m.strip() for m in args.modes.split(",")]
    tasks: list[Task | TimingTask] = []
    if not args.no_timing:
        sizes = sorted(int(s) for s in args.timing_sizes.split(","))
        # Long histories are costly for GP optimizers (minutes per suggestion on a busy machine): fewer repeats.
        repeats = {s: args.timing_repeats if s < 500 else args.timing_large_repeats for s in sizes}
        tasks += [TimingTask(o, s, r) for s in sizes for r in range(repeats[s]) for o in optimizers]
    for seed in range(max(args.seeds, args.sklearn_seeds)):
        for mode in modes:
            for name in _order(problems):
                limit = args.sklearn_seeds if PROBLEMS[name].kind == "sklearn" else args.seeds
                if seed < limit:
                    tasks += [Task(name, o, mode, seed, args.budget) for o in optimizers]
    return tasks


def _init_worker() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _execute(task: Task | TimingTask, timing_cpu_limit: float) -> dict[str, Any]:
    return run_task(task) if isinstance(task, Task) else run_timing(task, timing_cpu_limit)


def _describe(rec: dict[str, Any]) -> str:
    if "size" in rec:
        what = f"timing {rec['optimizer']} n={rec['size']} rep={rec['repeat']}"
        if rec["status"] != "ok":
            return f"{what} {rec['error']}"
        return f"{what} {rec['seconds']:.3f}s wall, {rec['cpu_seconds']:.3f}s CPU"
    what = f"{rec['problem']} {rec['optimizer']} {rec['mode']} seed={rec['seed']}"
    if rec["status"] != "ok":
        return f"{what} ERROR {rec['error']}"
    best = rec["best"][-1] if rec["best"] else float("nan")
    return f"{what} best={best:.5g} opt={rec['optimizer_seconds']:.1f}s eval={rec['eval_seconds']:.1f}s"


def _build_rf_table(pool: ProcessPoolExecutor) -> None:
    print("building the RandomForest table (400 forests, once)...", flush=True)
    t0 = time.time()
    rows = list(pool.map(rf_table.combo_row, *zip(*rf_table.combos()), chunksize=4))
    rf_table.save_table(rows)
    print(f"RandomForest table built in {time.time() - t0:.0f}s", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.seeds = args.sklearn_seeds = 2
        args.budget, args.timing_sizes, args.timing_repeats = 25, "20,50", 1
        args.timing_large_repeats = 1
        if args.problems == "all":
            args.problems = ",".join(QUICK_PROBLEMS)
    out = args.out or (DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(CACHE_ENV, str(DEFAULT_OUT / "cache"))
    if args.summary_only:
        print(report.write_summary(out))
        return 0

    groups = {
        "all": list(PROBLEMS),
        "synthetic": [n for n, p in PROBLEMS.items() if p.kind == "synthetic"],
        "sklearn": [n for n, p in PROBLEMS.items() if p.kind == "sklearn"],
    }
    problems = _select(args.problems, list(PROBLEMS), groups)
    wanted = _select(args.optimizers, list(adapters.OPTIMIZERS), {"all": list(adapters.OPTIMIZERS)})
    broken = adapters.unavailable(wanted)
    for name, error in broken.items():
        print(f"skipping {name}: {error}", flush=True)
    optimizers = [o for o in wanted if o not in broken]
    plan = {
        "problems": problems, "optimizers": optimizers, "seeds": args.seeds, "sklearn_seeds": args.sklearn_seeds,
        "modes": args.modes.split(","), "budget": args.budget,
    }  # fmt: skip
    record_environment(out, sys.argv, broken, plan)

    done_runs = done_keys(out / RUNS_FILE, ("problem", "optimizer", "mode", "seed", "budget"))
    done_timing = done_keys(out / TIMING_FILE, ("optimizer", "size", "repeat"))
    todo = [t for t in _tasks(args, problems, optimizers) if t.key not in (done_runs | done_timing)]
    stop_at = _stop_time(args.stop_at)
    print(f"{len(todo)} tasks to run ({len(done_runs)} runs already in {out / RUNS_FILE})", flush=True)

    for var in _THREAD_VARS:
        os.environ[var] = "1"
    ctx = multiprocessing.get_context("spawn")
    started, finished = time.time(), 0
    with ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_init_worker) as pool:
        if "rf_digits" in problems and not rf_table.table_ready():
            _build_rf_table(pool)
        futures: dict[Future[dict[str, Any]], Task | TimingTask] = {
            pool.submit(_execute, t, args.timing_cpu_limit): t for t in todo
        }
        recorded: set[Future[dict[str, Any]]] = set()

        def save(future: Future[dict[str, Any]]) -> None:
            nonlocal finished
            rec = future.result()
            append_record(out / (RUNS_FILE if isinstance(futures[future], Task) else TIMING_FILE), rec)
            recorded.add(future)
            finished += 1
            print(f"[{finished}/{len(todo)} {(time.time() - started) / 60:.1f}m] {_describe(rec)}", flush=True)

        for future in as_completed(futures):
            save(future)
            if stop_at and time.time() > stop_at:
                print("stop time reached: cancelling runs not yet started", flush=True)
                pool.shutdown(wait=True, cancel_futures=True)
                for rest in futures:  # runs that were already going when the time came
                    if rest.done() and not rest.cancelled() and rest not in recorded:
                        save(rest)
                break
    print(report.write_summary(out))
    return 0


def _stop_time(text: str | None) -> float | None:
    if not text:
        return None
    hour, minute = (int(x) for x in text.split(":"))
    return dt.datetime.now().replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()


if __name__ == "__main__":
    raise SystemExit(main())
