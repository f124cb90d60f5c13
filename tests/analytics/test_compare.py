"""Comparing tuning jobs: best value, training jobs needed to reach it, time, counts by status."""

from __future__ import annotations

import pytest

from modeltune.analytics import compare, trials_dataframe
from modeltune.errors import NotFoundError
from modeltune.store import Store


def test_one_row_per_job_with_its_best_value_and_how_soon_it_came(store: Store) -> None:
    frame = compare(store, ["tuned", "mixed"]).set_index("TuningJobName")

    for job in ("tuned", "mixed"):
        trials = trials_dataframe(store, job)
        best = trials.loc[trials["FinalObjectiveValue"].idxmin()]
        order = trials.dropna(subset=["TrainingStartTime"]).sort_values("TrainingStartTime")["TrainingJobName"]
        row = frame.loc[job]
        assert row["BestObjectiveValue"] == pytest.approx(best["FinalObjectiveValue"])
        assert row["BestTrainingJobName"] == best["TrainingJobName"]
        assert row["TrainingJobsToBest"] == order.tolist().index(best["TrainingJobName"]) + 1
        assert row["ElapsedSeconds"] > 0 and row["Status"] == "Completed"
    assert frame.loc["tuned", ["TrainingJobs", "Completed", "Failed", "Stopped", "InProgress"]].tolist() == [
        5,
        5,
        0,
        0,
        0,
    ]
    assert frame.loc["mixed", ["TrainingJobs", "Completed", "Failed", "Stopped", "InProgress"]].tolist() == [
        4,
        2,
        2,
        0,
        0,
    ]
    assert frame.loc["mixed", "Strategy"] == "Grid" and frame.loc["tuned", "ObjectiveType"] == "Minimize"


def test_an_unknown_job_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no tuning job named 'nope'"):
        compare(store, ["tuned", "nope"])
