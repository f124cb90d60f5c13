"""The analytics table keeps SageMaker's columns and adds intermediate metrics; the metric values table."""

from __future__ import annotations

import pandas as pd
import pytest

from modeltune.analytics import curves_dataframe, trials_dataframe
from modeltune.errors import NotFoundError
from modeltune.sdk import HyperparameterTuningJobAnalytics
from modeltune.store import Store
from modeltune.store import repository as repo

SAGEMAKER = [
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TuningJobName",
]


def test_the_table_keeps_sagemaker_columns_and_adds_steps_and_the_last_value_of_other_metrics(store: Store) -> None:
    frame = HyperparameterTuningJobAnalytics("tuned", store).dataframe()

    assert list(frame.columns) == [
        "x", "k", "kind", *SAGEMAKER, "FailureReason", "ModelArtifacts", "ObjectiveSteps", "metric:first",
        "WarmStartType", "WarmStartParents",
    ]  # fmt: skip
    assert (frame["ObjectiveSteps"] == 2).all()
    # The toy script prints "epoch 1 loss: L + 0.5" then "epoch 2 loss: L"; 'first' matches only the former.
    assert frame["metric:first"].tolist() == pytest.approx((frame["FinalObjectiveValue"] + 0.5).tolist())
    assert frame["metric:first"].dtype == float and frame["ObjectiveSteps"].dtype == int


def test_failed_training_jobs_have_no_value_and_no_steps(store: Store) -> None:
    frame = trials_dataframe(store, "mixed")
    failed = frame[frame["TrainingJobStatus"] == "Failed"]

    assert len(failed) == 2 and failed["FinalObjectiveValue"].isna().all()
    assert (failed["ObjectiveSteps"] == 0).all()
    assert failed["FailureReason"].str.startswith("exit code 3").all()
    assert not any(c.startswith("metric:") for c in frame.columns)  # the objective is its only metric


def test_the_curves_table_has_one_row_per_emitted_value(store: Store) -> None:
    curves = curves_dataframe(store, "tuned")
    tuning_job = repo.get_tuning_job(store, "tuned")
    stored = repo.metric_values(store, [t.id for t in repo.list_training_jobs(store, tuning_job.id)])

    assert len(curves) == sum(len(v) for v in stored.values()) == 5 * 3
    loss = curves[curves["metric"] == "loss"]
    assert loss["IsObjective"].all() and not curves[curves["metric"] == "first"]["IsObjective"].any()
    assert sorted(loss.groupby("TrainingJobName")["step"].apply(list).tolist()) == [[1.0, 2.0]] * 5
    assert isinstance(curves["timestamp"].iloc[0], pd.Timestamp) and str(curves["timestamp"].iloc[0].tz) == "UTC"


def test_unknown_jobs_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no tuning job named 'tuend'"):
        curves_dataframe(store, "tuend")
