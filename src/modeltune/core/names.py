"""The names of strategies, early-stopping types and warm-start types (SageMaker's spelling)."""

from __future__ import annotations

from enum import StrEnum


class StrategyName(StrEnum):
    """How new hyperparameters are chosen; Bayesian is the default of tuning jobs."""

    GRID = "Grid"
    RANDOM = "Random"
    BAYESIAN = "Bayesian"
    HYPERBAND = "Hyperband"


class ExecutorName(StrEnum):
    """Where a tuning job's training jobs run: processes of the controller's machine, workers that
    claim them from the store (on any machine that reaches it), tasks of a Ray cluster, or the
    ``modeltune.Optimizer`` processes that ask for them and evaluate them in their own code (no controller,
    no command)."""

    LOCAL = "local"
    WORKERS = "workers"
    RAY = "ray"
    ASK_TELL = "ask-tell"


class EarlyStoppingType(StrEnum):
    """SageMaker's ``TrainingJobEarlyStoppingType``: Auto applies the median rule."""

    OFF = "Off"
    AUTO = "Auto"


class WarmStartType(StrEnum):
    """How a tuning job learns from its parents (SageMaker's ``WarmStartType``)."""

    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"
