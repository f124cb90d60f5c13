"""modeltune: self-hosted automatic model tuning.

The public names load lazily so that ``import modeltune`` (e.g. inside a
training script calling ``modeltune.report``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Optimizer": "modeltune.optimizer",
    "report": "modeltune.metrics.report",
    "Estimator": "modeltune.sdk",
    "HyperparameterTuner": "modeltune.sdk",
    "HyperparameterTuningJobAnalytics": "modeltune.sdk",
    "ContinuousParameter": "modeltune.sdk",
    "IntegerParameter": "modeltune.sdk",
    "CategoricalParameter": "modeltune.sdk",
    "DiscreteParameter": "modeltune.sdk",
    "WarmStartConfig": "modeltune.sdk",
    "WarmStartTypes": "modeltune.sdk",
    "HyperbandStrategyConfig": "modeltune.sdk",
    "StrategyConfig": "modeltune.sdk",
    "TuningJobCompletionCriteriaConfig": "modeltune.sdk",
    "ModeltuneError": "modeltune.errors",
    "deploy": "modeltune.serving",
    "Predictor": "modeltune.serving",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'modeltune' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
