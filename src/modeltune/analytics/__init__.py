"""Looking back at tuning jobs: SageMaker-style descriptions, the trials DataFrame, comparisons, importance.

The pandas-backed names load on first use so that ``describe`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from modeltune.analytics.describe import describe_tuning_job, training_job_summary
from modeltune.analytics.listing import training_job_list, tuning_job_summaries

_LAZY = {
    "compare": "modeltune.analytics.comparison",
    "curves_dataframe": "modeltune.analytics.dataframe",
    "hyperparameter_importance": "modeltune.analytics.importance",
    "trials_dataframe": "modeltune.analytics.dataframe",
}

__all__ = [
    "compare",
    "curves_dataframe",
    "describe_tuning_job",
    "hyperparameter_importance",
    "training_job_list",
    "training_job_summary",
    "trials_dataframe",
    "tuning_job_summaries",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'modeltune.analytics' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
