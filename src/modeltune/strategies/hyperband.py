"""Hyperband: asynchronous successive halving over brackets, with model-based sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from modeltune.core import ObjectiveType, Observation, TrainingJobStatus
from modeltune.space import SearchSpace
from modeltune.stopping.base import StoppingRule, reached, value_at
from modeltune.stopping.successive_halving import SuccessiveHalvingRule, rungs
from modeltune.strategies.base import Strategy


class HyperbandStrategy(Strategy):
    """Samples configurations with a model fitted at the highest resource that has enough data,
    and stops training jobs at rungs by asynchronous successive halving (``SuccessiveHalvingRule``).

    Args:
        space, objective_type, random_seed: as for every strategy.
        min_resource: steps (e.g. epochs) of the smallest rung.
        max_resource: steps after which a training job is complete.
        reduction_factor: ``eta``: the best ``1/eta`` of each rung continue.
        sampler: ``"Bayesian"`` (model-based) or ``"Random"``.
    """

    def __init__(
        self,
        space: SearchSpace,
        objective_type: ObjectiveType | str,
        random_seed: int,
        min_resource: float = 1,
        max_resource: float = 81,
        reduction_factor: float = 3,
        sampler: Literal["Bayesian", "Random"] = "Bayesian",
        *,
        max_jobs: int | None = None,
    ):
        super().__init__(space, objective_type, random_seed, max_jobs=max_jobs)
        from modeltune.strategies import make_strategy

        self.rule = SuccessiveHalvingRule(objective_type, min_resource, max_resource, reduction_factor, random_seed)
        self.sampler = make_strategy(sampler, space, objective_type, random_seed)
        levels = {r for b in range(self.rule.brackets) for r in rungs(b, min_resource, max_resource, reduction_factor)}
        self.levels = sorted(levels | {max_resource}, reverse=True)

    def stopping_rule(self) -> StoppingRule:
        return self.rule

    def suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        return self.sampler.suggest(self.model_history(history), count)

    def model_history(self, history: Sequence[Observation]) -> list[Observation]:
        """The history as the sampler sees it: values at the highest resource reached by enough jobs.

        Jobs that did not reach that resource count as pending (so they are not
        suggested again); failed jobs without any value stay failures.
        """
        own = [o for o in history if not o.source]
        needed = max(2, int(getattr(self.sampler, "initial_design", 2)))
        level = next((r for r in self.levels if sum(reached(o.curve, r) for o in own) >= needed), None)
        model: list[Observation] = []
        for o in history:
            if o.source or (o.status == TrainingJobStatus.FAILED and not o.curve):
                model.append(o)
            elif level is not None and reached(o.curve, level):
                model.append(
                    Observation(
                        o.hyperparameters, TrainingJobStatus.COMPLETED, value_at(o.curve, level), number=o.number
                    )
                )
            elif level is None and not o.running and o.objective is not None:
                model.append(o)
            else:
                model.append(Observation(o.hyperparameters, TrainingJobStatus.IN_PROGRESS, number=o.number))
        return model
