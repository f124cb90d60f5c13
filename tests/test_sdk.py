"""The SageMaker-shaped Python API against real training jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

import modeltune
from modeltune.errors import ModeltuneError

from helpers import FIXTURES, TOY_SCRIPT


def make_tuner(**options) -> modeltune.HyperparameterTuner:
    estimator = modeltune.Estimator(
        command=["python", str(TOY_SCRIPT)],
        source_dir=FIXTURES,
        hyperparameters={"mode": "ok"},
        metric_definitions=[{"Name": "loss", "Regex": r"loss: (-?[0-9.eE+-]+)"}],
    )
    ranges = {
        "x": modeltune.ContinuousParameter(0.0, 1.0),
        "k": modeltune.IntegerParameter(1, 3),
        "kind": modeltune.CategoricalParameter(["a", "b"]),
        "lr": modeltune.DiscreteParameter([0.001, 0.01, 0.1]),
    }
    settings = {
        "strategy": "Random",
        "objective_type": "Minimize",
        "max_jobs": 3,
        "max_parallel_jobs": 2,
        "random_seed": 11,
        **options,
    }
    return modeltune.HyperparameterTuner(estimator, "loss", ranges, **settings)


def test_fit_describe_best_and_analytics_use_sagemaker_names(home: Path) -> None:
    tuner = make_tuner()
    tuner.fit(job_name="sdk-job", show_progress=False)

    description = tuner.describe()
    frame = tuner.analytics().dataframe()

    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 3
    assert list(frame.columns[:4]) == ["x", "k", "kind", "lr"]
    for column in (
        "TrainingJobName",
        "TrainingJobStatus",
        "FinalObjectiveValue",
        "TrainingStartTime",
        "TrainingEndTime",
        "TrainingElapsedTimeSeconds",
    ):
        assert column in frame.columns
    assert len(frame) == 3 and set(frame["TrainingJobStatus"]) == {"Completed"}
    assert tuner.best_training_job() == frame.loc[frame["FinalObjectiveValue"].idxmin(), "TrainingJobName"]
    assert set(frame["lr"]) <= {0.001, 0.01, 0.1}
    assert (frame["TrainingElapsedTimeSeconds"] > 0).all()


def test_fit_without_waiting_runs_in_the_background(home: Path) -> None:
    tuner = make_tuner(max_jobs=2)
    tuner.fit(job_name="background", wait=False)

    tuner.wait(poll_seconds=0.2)

    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    assert tuner.describe()["ObjectiveStatusCounters"] == {"Succeeded": 2, "Pending": 0, "Failed": 0}


def test_using_a_tuner_before_fit_is_a_clear_error(home: Path) -> None:
    with pytest.raises(ModeltuneError, match=r"^this tuner has not started a tuning job yet; call fit\(\) first$"):
        make_tuner().describe()


def test_the_same_seed_gives_the_same_hyperparameters(home: Path) -> None:
    first, second = make_tuner(), make_tuner()
    first.fit(job_name="seeded-1", show_progress=False)
    second.fit(job_name="seeded-2", show_progress=False)

    columns = ["x", "k", "kind", "lr"]
    assert first.analytics().dataframe()[columns].equals(second.analytics().dataframe()[columns])
