"""Record every grid curve of the recorded problems once (resumable): ``python -m benchmarks.early_stopping.record``."""

from __future__ import annotations

import argparse
import time
from multiprocessing import get_context

from benchmarks.early_stopping.problems import PROBLEMS


def _record(job: tuple[str, tuple[int, ...]]) -> str:
    from threadpoolctl import threadpool_limits

    name, index = job
    table = PROBLEMS[name].table
    with threadpool_limits(limits=1):
        if table is not None:
            table.record(index)
    return name


def record_all(names: list[str], workers: int) -> None:
    """Train and cache every missing grid point of the named problems, on ``workers`` processes."""
    jobs = [(n, i) for n in names if PROBLEMS[n].table for i in PROBLEMS[n].table.missing()]
    if not jobs:
        return
    start = time.time()
    print(f"recording {len(jobs)} learning curves on {workers} processes", flush=True)
    with get_context("spawn").Pool(workers) as pool:
        for done, _ in enumerate(pool.imap_unordered(_record, jobs, chunksize=4), 1):
            if done % 50 == 0 or done == len(jobs):
                print(f"  {done}/{len(jobs)} curves, {time.time() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", nargs="*", default=[n for n, p in PROBLEMS.items() if p.table])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    record_all(args.problems, args.workers)


if __name__ == "__main__":
    main()
