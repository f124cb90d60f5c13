"""The words every layer shares: statuses, names, the objective's direction, and the records of training jobs.

Everything else in modeltune imports these; this package imports nothing of modeltune.
"""

from modeltune.core.counts import TrainingJobCounts
from modeltune.core.names import EarlyStoppingType, ExecutorName, StrategyName, WarmStartType
from modeltune.core.objective import ObjectiveType, best_training_job, jobs_not_improving
from modeltune.core.records import MetricValue, Observation, utcnow
from modeltune.core.status import (
    KEPT_MODELS,
    RUNNING_TRAINING,
    SCORED_TRAINING,
    TERMINAL_TRAINING,
    TERMINAL_TUNING,
    UPLOAD_FAILED,
    TrainingJobStatus,
    TuningJobStatus,
)

__all__ = [
    "KEPT_MODELS",
    "RUNNING_TRAINING",
    "SCORED_TRAINING",
    "TERMINAL_TRAINING",
    "TERMINAL_TUNING",
    "UPLOAD_FAILED",
    "EarlyStoppingType",
    "ExecutorName",
    "MetricValue",
    "ObjectiveType",
    "Observation",
    "StrategyName",
    "TrainingJobCounts",
    "TrainingJobStatus",
    "TuningJobStatus",
    "WarmStartType",
    "best_training_job",
    "jobs_not_improving",
    "utcnow",
]
