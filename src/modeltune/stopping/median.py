"""``early_stopping: Auto``: the median stopping rule."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from modeltune.core import ObjectiveType, Observation
from modeltune.stopping.base import StopDecision, StoppingRule, reached


class MedianStoppingRule(StoppingRule):
    """Stop a training job whose best value so far is worse than the median of earlier jobs' running averages.

    At step ``t`` of training job ``j`` (its latest report), let the peers be the
    finished training jobs of this tuning job whose curves reach step ``t``. For each
    peer, its running average is the mean of its objective values at steps <= ``t``.
    ``j`` is stopped when its best value at steps <= ``t`` is strictly worse than the
    median of those running averages. The rule waits until ``j`` has reported
    ``min_steps`` values and there are ``min_peers`` peers at step ``t``.

    Args:
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        min_steps: values a job reports before it can be stopped.
        min_peers: finished jobs reaching the step needed before any job is stopped.
    """

    def __init__(self, objective_type: ObjectiveType | str, min_steps: int = 3, min_peers: int = 3):
        super().__init__(objective_type)
        self.min_steps = min_steps
        self.min_peers = min_peers

    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        if len(job.curve) < self.min_steps:
            return None
        step = job.curve[-1][0]
        peers = self.peer_median(job, history, step)
        if peers is None:
            return None
        median, count = peers
        best = min((v for _, v in job.curve), key=self.loss)
        if self.loss(best) <= self.loss(median):
            return None
        return StopDecision(
            f"early stopping (median rule): its best value {best:.6g} by step {step:g} is worse than {median:.6g}, "
            f"the median of {count} finished training jobs' running averages up to that step"
        )

    def peer_median(self, job: Observation, history: Sequence[Observation], step: float) -> tuple[float, int] | None:
        """The median of the running averages up to ``step`` of the finished peers reaching it, and how
        many there are; None while there are fewer than ``min_peers``."""
        averages = [
            statistics.fmean(v for s, v in peer.curve if s <= step)
            for peer in history
            if peer is not job and not peer.running and not peer.source and reached(peer.curve, step)
        ]
        if len(averages) < self.min_peers:
            return None
        return statistics.median(averages), len(averages)
