"""Systems that get a copy of what tuning jobs record (MLflow), chosen by the spec's ``integrations``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TuningJob

if TYPE_CHECKING:
    from modeltune.integrations.mlflow import MlflowTracker


def tracker_for(spec: TuningJobSpec, store: Store, job: TuningJob) -> MlflowTracker | None:
    """The MLflow tracker the spec asks for, or None (MLflow itself loads only then)."""
    settings = spec.integrations.mlflow
    if settings is None:
        return None
    from modeltune import extras
    from modeltune.integrations.mlflow import MlflowTracker

    extras.require("mlflow", "mlflow", "recording training jobs in MLflow needs")
    return MlflowTracker(store, job, settings.tracking_uri, settings.experiment)
