"""One benchmark run: a (problem, method, seed) simulated tuning job, summarised as rows for the CSVs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from benchmarks.early_stopping.problems import PROBLEMS
from benchmarks.early_stopping.simulate import Trial, simulate
from benchmarks.early_stopping.tuners import make_tuner

RUN_FIELDS = [
    "problem", "method", "seed", "trials", "resource", "completed", "best_value", "best_true", "best_tried",
    "makespan", "seconds",
]  # fmt: skip
TRIAL_FIELDS = ["problem", "method", "seed", "number", "steps", "value", "final", "start", "end", "stopped", "config"]


@dataclass(frozen=True)
class Task:
    """One run to do."""

    problem: str
    method: str
    seed: int
    trials: int
    workers: int


def run_task(task: Task) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Simulate one tuning job; return its run row and its trial rows."""
    from threadpoolctl import threadpool_limits

    problem = PROBLEMS[task.problem]
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        trials = simulate(make_tuner(task.method, problem, task.seed), problem, task.seed, task.trials, task.workers)
    seconds = time.perf_counter() - start
    best = _best(trials, problem.better)
    tried = _best_value([t.curve.final for t in trials], problem.better)
    run = {
        "problem": task.problem,
        "method": task.method,
        "seed": task.seed,
        "trials": len(trials),
        "resource": sum(t.steps for t in trials),
        "completed": sum(t.steps == problem.max_resource for t in trials),
        "best_value": best.value,
        "best_true": best.curve.final,
        "best_tried": tried,
        "makespan": max(t.end for t in trials),
        "seconds": round(seconds, 2),
    }
    rows = [
        {
            "problem": task.problem,
            "method": task.method,
            "seed": task.seed,
            "number": t.number,
            "steps": t.steps,
            "value": round(t.value, 6),
            "final": round(t.curve.final, 6),
            "start": t.start,
            "end": t.end,
            "stopped": int(t.stopped),
            "config": json.dumps({k: _plain(v) for k, v in t.config.items()}),
        }
        for t in trials
    ]
    return run, rows


def _best(trials: list[Trial], better: Any) -> Trial:
    """The trial with the best recorded value (ties: the earliest), as modeltune picks the best job."""
    best = trials[0]
    for t in trials[1:]:
        if better(t.value, best.value):
            best = t
    return best


def _best_value(values: list[float], better: Any) -> float:
    best = values[0]
    for v in values[1:]:
        if better(v, best):
            best = v
    return best


def _plain(value: Any) -> Any:
    return round(value, 8) if isinstance(value, float) else value
