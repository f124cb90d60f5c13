"""When a tuning job may end before its budget is spent: SageMaker's completion criteria.

- ``target_objective_value``: a training job's final objective reached the target
  (at least it when maximising, at most it when minimising).
- ``best_objective_not_improving``: the last N training jobs to end did not improve on
  the best objective value found before them.
- ``convergence_detected``: once at least ``max(20, 5 d)`` training jobs have ended (d
  tuned hyperparameters), the best value found in the later half of them improves on the
  best of the earlier half by less than 0.1% of the spread of all their values (the
  difference between their 90th and 10th percentiles). The search then keeps finding the
  same best, and more training jobs are unlikely to pay.

A tuning job that meets a criterion starts no new training job; those already running
finish, so a late improvement is not lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modeltune.core import ObjectiveType, jobs_not_improving, utcnow
from modeltune.spec import CompletionCriteria
from modeltune.store import TrainingJob

CONVERGENCE_MIN_JOBS = 20
CONVERGENCE_JOBS_PER_DIMENSION = 5
CONVERGENCE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Completion:
    """Why a tuning job completes, and the numbers behind it (SageMaker's TuningJobCompletionDetails)."""

    reason: str
    details: dict[str, Any]


def check_completion(
    criteria: CompletionCriteria, objective: ObjectiveType, ended: Sequence[TrainingJob], dimensions: int
) -> Completion | None:
    """The criterion the tuning job meets, given its scored training jobs in the order they ended; or None."""
    if not ended:
        return None
    losses = [objective.loss(float(j.final_objective or 0.0)) for j in ended]
    not_improving = jobs_not_improving(losses)
    details: dict[str, Any] = {"NumberOfTrainingJobsObjectiveNotImproving": not_improving}
    target = criteria.target_objective_value
    if target is not None:
        best = ended[int(np.argmin(losses))]
        if objective.loss(float(best.final_objective or 0.0)) <= objective.loss(target):
            reason = (
                f"training job {best.name} reached the target objective value {target:g} ({best.final_objective:g})"
            )
            return Completion(reason, {**details, "TargetObjectiveMetricValueReached": best.final_objective})
    patience = criteria.best_objective_not_improving
    if patience is not None and not_improving >= patience.max_number_of_training_jobs_not_improving:
        reason = f"the best objective value did not improve in the last {not_improving} training jobs"
        return Completion(reason, details)
    convergence = criteria.convergence_detected
    if convergence is not None and convergence.complete_on_convergence == "Enabled" and converged(losses, dimensions):
        reason = f"the search converged: {len(losses)} training jobs ended and the later half did not improve the best"
        return Completion(reason, {**details, "ConvergenceDetectedTime": utcnow().isoformat(timespec="seconds") + "Z"})
    return None


def converged(losses: Sequence[float], dimensions: int) -> bool:
    """Whether the later half of ``losses`` improves the earlier half's best by less than the tolerance."""
    if len(losses) < max(CONVERGENCE_MIN_JOBS, CONVERGENCE_JOBS_PER_DIMENSION * dimensions):
        return False
    values = np.asarray(losses, dtype=float)
    half = len(values) // 2
    spread = float(np.percentile(values, 90) - np.percentile(values, 10))
    improvement = float(values[:half].min() - values[half:].min())
    return improvement <= CONVERGENCE_TOLERANCE * spread
