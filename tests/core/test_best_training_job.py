"""Choosing the best training job."""

from __future__ import annotations

from datetime import datetime

from modeltune.core import TrainingJobStatus, best_training_job
from modeltune.store import TrainingJob


def training_job(number: int, status: str, value: float | None) -> TrainingJob:
    now = datetime(2026, 1, 1)
    return TrainingJob(
        number,
        1,
        number,
        f"job-{number:03d}",
        TrainingJobStatus(status),
        {},
        value,
        now,
        now,
        now,
        0,
        None,
        "",
        "",
        None,
    )


def test_completed_jobs_win_over_better_values_of_stopped_ones() -> None:
    jobs = [training_job(1, "Stopped", 0.99), training_job(2, "Completed", 0.90), training_job(3, "Completed", 0.95)]

    assert best_training_job(jobs, "Maximize").name == "job-003"
    assert best_training_job(jobs, "Minimize").name == "job-002"


def test_stopped_jobs_count_when_none_completed_and_ties_go_to_the_earliest() -> None:
    jobs = [training_job(1, "Failed", None), training_job(2, "Stopped", 0.5), training_job(3, "Stopped", 0.5)]

    assert best_training_job(jobs, "Minimize").name == "job-002"
    assert best_training_job([training_job(1, "Failed", None)], "Minimize") is None
