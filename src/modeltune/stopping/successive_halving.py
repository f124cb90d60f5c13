"""Asynchronous successive halving over Hyperband brackets: the stopping half of ``Hyperband``."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from modeltune.core import ObjectiveType, Observation, TrainingJobStatus
from modeltune.stopping.base import StopDecision, StoppingRule, reached, value_at


def bracket_count(min_resource: float, max_resource: float, reduction_factor: float) -> int:
    """How many brackets Hyperband runs: 1 + floor(log_eta(max / min))."""
    return 1 + int(math.floor(math.log(max_resource / min_resource, reduction_factor) + 1e-9))


def hyperband_weights(brackets: int, reduction_factor: float) -> np.ndarray:
    """Hyperband's share of jobs per bracket, unnormalised: ``eta**(B-1-b) / (B-b)`` for bracket ``b`` of ``B``."""
    return np.array([reduction_factor ** (brackets - 1 - b) / (brackets - b) for b in range(brackets)])


@functools.lru_cache(maxsize=65536)
def bracket_of(number: int, seed: int, brackets: int, reduction_factor: float) -> int:
    """The bracket of training job ``number``, drawn (seeded) with the square roots of Hyperband's weights.

    Bracket ``b`` starts its jobs at ``min_resource * eta**b``. Hyperband gives bracket
    ``b`` of ``B`` the weight ``eta**(B-1-b) / (B-b)``, which bets most jobs on rung
    values predicting final ones; when learning curves cross (slow learners that end
    best), its best configurations get stopped. The square roots keep aggressive
    brackets first but run more jobs longer: on the early-stopping benchmark this
    keeps the best of no early stopping within noise at 45-56% of its resource, where
    Hyperband's weights save more (32-45%) but lose the best on two of three problems.
    """
    weights = np.sqrt(hyperband_weights(brackets, reduction_factor))
    rng = np.random.default_rng([seed, number, 7])
    return int(rng.choice(brackets, p=weights / weights.sum()))


def rungs(bracket: int, min_resource: float, max_resource: float, reduction_factor: float) -> list[float]:
    """The steps at which a job of ``bracket`` is compared with its peers (below ``max_resource``)."""
    points = []
    k = bracket
    while min_resource * reduction_factor**k < max_resource - 1e-9:
        points.append(min_resource * reduction_factor**k)
        k += 1
    return points


class SuccessiveHalvingRule(StoppingRule):
    """Stop a job at a rung unless it is in the best ``1/eta`` of the jobs of its bracket that reached the rung.

    Decisions are asynchronous (ASHA): a job reaching rung ``r`` is compared with
    every job of its bracket that has reached ``r`` so far (itself included) and
    continues when its value at ``r`` is no worse than the ``1/eta`` quantile of
    theirs. A job reaching ``max_resource`` ends as Completed.
    """

    def __init__(
        self,
        objective_type: ObjectiveType | str,
        min_resource: float,
        max_resource: float,
        reduction_factor: float,
        random_seed: int,
    ):
        super().__init__(objective_type)
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.eta = reduction_factor
        self.seed = random_seed
        self.brackets = bracket_count(min_resource, max_resource, reduction_factor)

    def bracket(self, job: Observation) -> int:
        """The bracket of a training job (from its number)."""
        return bracket_of(job.number, self.seed, self.brackets, self.eta)

    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        if not job.curve:
            return None
        step = job.curve[-1][0]
        if step >= self.max_resource:
            return StopDecision(
                f"reached max_resource ({self.max_resource:g} steps)", status=TrainingJobStatus.COMPLETED
            )
        previous = job.curve[-2][0] if len(job.curve) > 1 else -math.inf
        bracket = self.bracket(job)
        peers = [o for o in history if not o.source and self.bracket(o) == bracket]
        for rung in rungs(bracket, self.min_resource, self.max_resource, self.eta):
            if not previous < rung <= step:
                continue
            at_rung = [value_at(o.curve, rung) for o in peers if reached(o.curve, rung)]
            losses = [self.loss(v) for v in at_rung if v is not None]
            own = value_at(job.curve, rung)
            if own is None or not losses:
                continue
            cutoff = float(np.quantile(losses, 1.0 / self.eta))
            if self.loss(own) > cutoff:
                return StopDecision(
                    f"Hyperband: at rung {rung:g} of bracket {bracket} its value {own:.6g} is not in the best "
                    f"1/{self.eta:g} of the {len(losses)} training jobs that reached it"
                )
        return None
