"""An event-driven simulated tuning job: parallel workers, one time unit per step, asynchronous stops."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from benchmarks.early_stopping.problems import Curve, Problem
from benchmarks.early_stopping.tuners import Tuner


@dataclass
class Trial:
    """One simulated training job."""

    number: int
    config: dict[str, Any]
    curve: Curve
    start: float
    handle: Any = None
    steps: int = 0
    end: float = 0.0
    stopped: bool = False

    @property
    def value(self) -> float:
        """Its objective as the tuner records it: the value at the last step it ran."""
        return float(self.curve.observed[self.steps - 1])


def simulate(tuner: Tuner, problem: Problem, seed: int, trials: int, workers: int = 4) -> list[Trial]:
    """Run ``trials`` training jobs on ``workers`` simulated workers and return them, oldest first.

    A free worker asks for a config at once; each step takes one time unit and its value
    is reported when it ends; a trial ends when the tuner says stop or at max_resource,
    and its worker asks for the next config at the same time. Events at equal times are
    handled in the order they were scheduled.
    """
    started: list[Trial] = []
    events: list[tuple[float, int, int]] = []
    order = 0

    def schedule(time: float, index: int) -> None:
        nonlocal order
        heapq.heappush(events, (time, order, index))
        order += 1

    def start(time: float) -> None:
        handle, config = tuner.ask()
        trial = Trial(len(started) + 1, config, problem.evaluate(config, seed), time, handle)
        started.append(trial)
        schedule(time + 1, len(started) - 1)

    for _ in range(min(workers, trials)):
        start(0.0)
    while events:
        time, _, index = heapq.heappop(events)
        trial = started[index]
        trial.steps += 1
        last = trial.steps >= problem.max_resource
        stop = tuner.report(trial.handle, trial.value, trial.steps, last)
        if not (last or stop):
            schedule(time + 1, index)
            continue
        trial.end, trial.stopped = time, not last
        tuner.tell(trial.handle, trial.value, stopped=not last)
        if len(started) < trials:
            start(time)
    return started
