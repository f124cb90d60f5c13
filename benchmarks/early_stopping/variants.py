"""Candidate improvements to modeltune's stopping rules, measured by patching a tuner in this harness only.

Each variant is a method name for ``run.py --methods``; nothing in ``src/`` changes.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence

import numpy as np

from benchmarks.early_stopping.problems import Problem
from benchmarks.early_stopping.tuners import ModeltuneTuner, Tuner, hyperband_settings
from modeltune.core import Observation
from modeltune.stopping import MedianStoppingRule, StopDecision, SuccessiveHalvingRule
from modeltune.stopping.base import reached, value_at
from modeltune.stopping.successive_halving import hyperband_weights, rungs


class ValueAtStepMedianRule(MedianStoppingRule):
    """The median rule, comparing with the median of peers' values *at* step t, not their running averages.

    The running average of a peer up to step t includes its poor early values, so it is
    a far more lenient bar than what good peers reach at t (Optuna's MedianPruner also
    uses the values at the step).
    """

    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        if len(job.curve) < self.min_steps:
            return None
        step = job.curve[-1][0]
        values = [
            value_at(peer.curve, step)
            for peer in history
            if peer is not job and not peer.running and not peer.source and reached(peer.curve, step)
        ]
        if len(values) < self.min_peers:
            return None
        median = statistics.median(v for v in values if v is not None)
        best = min((v for _, v in job.curve), key=self.loss)
        if self.loss(best) <= self.loss(median):
            return None
        return StopDecision(f"median of values at step {step:g}: {median:.6g}; best {best:.6g}")


class CurrentValueMedianRule(MedianStoppingRule):
    """SageMaker's wording of the median rule: the job's *current* value, not its best so far, against
    the median of the peers' running averages up to the step."""

    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        if len(job.curve) < self.min_steps:
            return None
        step, current = job.curve[-1]
        peers = self.peer_median(job, history, step)
        if peers is None or self.loss(current) <= self.loss(peers[0]):
            return None
        return StopDecision(f"median of running averages at step {step:g}: {peers[0]:.6g}; current {current:.6g}")


class TopKHalvingRule(SuccessiveHalvingRule):
    """Successive halving that continues a job only if it ranks in the top ``max(1, n // eta)`` of the
    ``n`` jobs of its bracket at the rung (ASHA's and Optuna's rule), instead of being no worse than the
    linearly interpolated ``1/eta`` quantile, which lets 2 of 4 or 5 (3 of 7 or 8) jobs through.
    """

    def should_stop(self, job: Observation, history: Sequence[Observation]) -> StopDecision | None:
        if not job.curve:
            return None
        step = job.curve[-1][0]
        if step >= self.max_resource:
            return StopDecision("reached max_resource", status="Completed")
        previous = job.curve[-2][0] if len(job.curve) > 1 else -math.inf
        bracket = self.bracket(job)
        peers = [o for o in history if not o.source and self.bracket(o) == bracket]
        for rung in rungs(bracket, self.min_resource, self.max_resource, self.eta):
            own = value_at(job.curve, rung)
            if not previous < rung <= step or own is None:
                continue
            losses = sorted(self.loss(v) for o in peers if reached(o.curve, rung) for v in [value_at(o.curve, rung)])
            if losses and self.loss(own) > losses[max(1, int(len(losses) // self.eta)) - 1]:
                return StopDecision(f"not in the top 1/{self.eta:g} of {len(losses)} at rung {rung:g}")
        return None


def _auto_value_at_step(problem: Problem, seed: int) -> Tuner:
    tuner = ModeltuneTuner(problem, seed, strategy="Bayesian", early_stopping="Auto")
    tuner.optimizer._rule = ValueAtStepMedianRule(problem.objective_type)
    return tuner


def _auto_current_value(problem: Problem, seed: int) -> Tuner:
    tuner = ModeltuneTuner(problem, seed, strategy="Bayesian", early_stopping="Auto")
    tuner.optimizer._rule = CurrentValueMedianRule(problem.objective_type)
    return tuner


def _hyperband_one_bracket(problem: Problem, seed: int) -> Tuner:
    tuner = ModeltuneTuner(problem, seed, strategy="Hyperband", hyperband=hyperband_settings(problem, "Bayesian"))
    tuner.optimizer._rule.bracket = lambda job: 0
    return tuner


def _hyperband_top_k(problem: Problem, seed: int) -> Tuner:
    tuner = ModeltuneTuner(problem, seed, strategy="Hyperband", hyperband=hyperband_settings(problem, "Bayesian"))
    tuner.optimizer._rule = TopKHalvingRule(problem.objective_type, 1, problem.max_resource, 3, seed)
    return tuner


def _hyperband_model_at_max(problem: Problem, seed: int) -> Tuner:
    """Hyperband whose sampler models only full-length values (not the lower rungs' values)."""
    tuner = ModeltuneTuner(problem, seed, strategy="Hyperband", hyperband=hyperband_settings(problem, "Bayesian"))
    tuner.optimizer._strategy.levels = [float(problem.max_resource)]
    return tuner


@functools.cache
def _uniform_bracket(seed: int, number: int, brackets: int) -> int:
    return int(np.random.default_rng([seed, number, 7]).integers(brackets))


def _hyperband_uniform_brackets(problem: Problem, seed: int) -> Tuner:
    """Hyperband drawing each job's bracket uniformly instead of with Hyperband's weights (more full runs)."""
    tuner = ModeltuneTuner(problem, seed, strategy="Hyperband", hyperband=hyperband_settings(problem, "Bayesian"))
    rule = tuner.optimizer._rule
    rule.bracket = lambda job: _uniform_bracket(seed, job.number, rule.brackets)
    return tuner


@functools.cache
def _original_bracket(seed: int, number: int, brackets: int) -> int:
    weights = hyperband_weights(brackets, 3.0)
    return int(np.random.default_rng([seed, number, 7]).choice(brackets, p=weights / weights.sum()))


def _hyperband_original_weights(problem: Problem, seed: int) -> Tuner:
    """Hyperband drawing brackets with Hyperband's own weights (modeltune uses their square roots)."""
    tuner = ModeltuneTuner(problem, seed, strategy="Hyperband", hyperband=hyperband_settings(problem, "Bayesian"))
    rule = tuner.optimizer._rule
    rule.bracket = lambda job: _original_bracket(seed, job.number, rule.brackets)
    return tuner


VARIANTS = {
    "variant-auto-value-at-step": _auto_value_at_step,
    "variant-auto-current-value": _auto_current_value,
    "variant-hyperband-one-bracket": _hyperband_one_bracket,
    "variant-hyperband-top-k": _hyperband_top_k,
    "variant-hyperband-model-at-max": _hyperband_model_at_max,
    "variant-hyperband-uniform-brackets": _hyperband_uniform_brackets,
    "variant-hyperband-original-weights": _hyperband_original_weights,
}
"""Variant name -> ``(problem, seed) -> Tuner``."""
