"""Time per suggestion with a long history: pre-fill random results, then time one ask.

Each measurement pre-fills ``size`` uniformly random configurations of Hartmann-6 with
their values, then times one ``ask(1)`` (wall-clock and CPU time: the CPU time is what to
compare on a busy machine). The ask is cold: Optuna's GPSampler, which caches kernel
hyperparameters between asks, starts from its defaults.
skopt refits inside ``tell``; its adapter defers that work to the next ``ask``, so every
optimizer's time covers "take in the last result and produce the next suggestion".
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.optimizers.adapters import make_adapter
from benchmarks.optimizers.problems import get_problem
from modeltune.space import SearchSpace

TIMING_PROBLEM = "hartmann6"


@dataclass(frozen=True)
class TimingTask:
    """One timed suggestion at history length ``size``."""

    optimizer: str
    size: int
    repeat: int

    @property
    def key(self) -> tuple[str, int, int]:
        """Identity of the measurement, for resuming."""
        return (self.optimizer, self.size, self.repeat)


class CpuBudgetExceeded(Exception):
    """The measurement used more CPU time than it was allowed."""


def _over_budget(signum: int, frame: Any) -> None:
    raise CpuBudgetExceeded


def run_timing(task: TimingTask, cpu_limit: float = 120.0) -> dict[str, Any]:
    """Measure one suggestion; failures are recorded, never raised.

    A measurement that uses more than ``cpu_limit`` CPU seconds (pre-fill included) is
    stopped and recorded with status ``"limit"``: the suggestion costs more than that.
    """
    record: dict[str, Any] = {"optimizer": task.optimizer, "size": task.size, "repeat": task.repeat}
    # SIGPROF counts this process's CPU time, so the limit is fair on a busy machine.
    previous = signal.signal(signal.SIGPROF, _over_budget)
    signal.setitimer(signal.ITIMER_PROF, cpu_limit)
    try:
        problem = get_problem(TIMING_PROBLEM)
        rng = np.random.default_rng([task.repeat, task.size])
        space = SearchSpace(problem.ranges)
        configs = [space.sample(rng) for _ in range(task.size)]
        adapter = make_adapter(task.optimizer, problem.ranges, task.repeat)
        adapter.observe(configs, [problem.func(c) for c in configs])
        t0, c0 = time.perf_counter(), time.process_time()
        adapter.ask(1)
        record["seconds"] = time.perf_counter() - t0
        record["cpu_seconds"] = time.process_time() - c0
        record["status"] = "ok"
    except CpuBudgetExceeded:
        record["status"] = "limit"
        record["error"] = f"stopped after {cpu_limit:.0f} CPU seconds"
        record["cpu_limit"] = cpu_limit
    except Exception as exc:  # noqa: BLE001 - recorded in the summary
        record["status"] = "error"
        record["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    return record
