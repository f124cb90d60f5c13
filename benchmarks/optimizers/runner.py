"""One benchmark run: one optimizer on one problem with one seed, sequential or in batches."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.optimizers.adapters import make_adapter
from benchmarks.optimizers.problems import get_problem

MODES = {"seq": 1, "par4": 4}


@dataclass(frozen=True)
class Task:
    """What one run does; ``key`` identifies it in the results file."""

    problem: str
    optimizer: str
    mode: str
    seed: int
    budget: int

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        """Identity of the run, for resuming."""
        return (self.problem, self.optimizer, self.mode, self.seed, self.budget)


def run_task(task: Task) -> dict[str, Any]:
    """Run ``task`` and return its record (never raises: failures are recorded)."""
    record: dict[str, Any] = {
        "problem": task.problem, "optimizer": task.optimizer, "mode": task.mode,
        "seed": task.seed, "budget": task.budget,
    }  # fmt: skip
    started = time.perf_counter()
    try:
        record.update(_run(task))
        record["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the benchmark
        record["status"] = "error"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc(limit=6)
    record["wall_seconds"] = round(time.perf_counter() - started, 3)
    return record


def _run(task: Task) -> dict[str, Any]:
    problem = get_problem(task.problem)
    batch = MODES[task.mode]
    adapter = make_adapter(task.optimizer, problem.ranges, task.seed, task.budget)
    noise = np.random.default_rng([task.seed, 1009])
    observed: list[float] = []
    true: list[float] = []
    right: list[bool] = []
    opt_seconds = eval_seconds = 0.0
    cpu_start = time.process_time()
    while len(observed) < task.budget:
        t0 = time.perf_counter()
        configs = adapter.ask(min(batch, task.budget - len(observed)))
        opt_seconds += time.perf_counter() - t0
        if not configs:
            break
        t0 = time.perf_counter()
        results = [problem.evaluate(c, noise) for c in configs]
        eval_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        for config, (obs, _) in zip(configs, results):
            adapter.tell(config, obs)
        opt_seconds += time.perf_counter() - t0
        observed.extend(r[0] for r in results)
        true.extend(r[1] for r in results)
        right.extend(problem.in_right_categories(c) for c in configs)
    extra = {"right": incumbent_trace(observed, [float(r) for r in right])} if problem.right else {}
    return extra | {
        "observed": observed,
        "true": true,
        "best": incumbent_trace(observed, true),
        "optimizer_seconds": round(opt_seconds, 4),
        "eval_seconds": round(eval_seconds, 4),
        # CPU time of the whole run (optimizer and evaluations), unaffected by other load on the machine
        "cpu_seconds": round(time.process_time() - cpu_start, 4),
    }


def incumbent_trace(observed: list[float], true: list[float]) -> list[float]:
    """Noise-free value (or any other property listed in ``true``) of the best-observed
    configuration after each evaluation.

    For noise-free problems this is the running minimum; for noisy ones it is what a user
    would get by picking the configuration with the best reported value.
    """
    trace, best_obs, best_true = [], float("inf"), float("nan")
    for obs, tr in zip(observed, true):
        if obs < best_obs:
            best_obs, best_true = obs, tr
        trace.append(best_true)
    return trace
