"""The database's counts, best training job and metric summaries agree with the same figures computed in
memory from every training job, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from modeltune.core import MetricValue, TrainingJobCounts, TrainingJobStatus, best_training_job, utcnow
from modeltune.store import Store, aggregates, repository

from .test_store_contract import SPEC, add_job

# (status, final objective, retryable): ties, a better Stopped job, failures and running jobs.
OUTCOMES = [
    (TrainingJobStatus.COMPLETED, 0.7, False),
    (TrainingJobStatus.STOPPED, 0.95, False),
    (TrainingJobStatus.COMPLETED, 0.9, False),
    (TrainingJobStatus.FAILED, None, True),
    (TrainingJobStatus.COMPLETED, 0.9, False),
    (TrainingJobStatus.FAILED, None, False),
    (TrainingJobStatus.IN_PROGRESS, None, False),
    (TrainingJobStatus.STOPPED, None, False),
    (TrainingJobStatus.PENDING, None, False),
]


@pytest.fixture
def job_id(store: Store) -> int:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    start = utcnow() - timedelta(hours=1)
    for number, (status, objective, retryable) in enumerate(OUTCOMES, 1):
        job = add_job(store, tuning_job.id, number)
        ended = start + timedelta(minutes=(7 * number) % 11) if status.terminal else None
        repository.update_training_job(
            store, job.id, status=status, final_objective=objective, retryable=retryable, ended_at=ended
        )
        repository.add_metric_values(
            store,
            [(job.id, MetricValue(name, number + step, step, start)) for step in range(3) for name in ("auc", "f1")],
        )
    return tuning_job.id


def test_counts_match_the_training_jobs(store: Store, job_id: int) -> None:
    jobs = repository.list_training_jobs(store, job_id)
    counted = aggregates.training_job_counts(store, [job_id])[job_id]
    assert counted == TrainingJobCounts.of(jobs)
    assert counted.counters() == {"Completed": 3, "Failed": 2, "Stopped": 2, "InProgress": 2}
    assert (counted.retryable_failures, counted.with_objective, counted.total) == (1, 4, 9)


def test_best_is_the_completed_best_with_ties_to_the_lowest_number(store: Store, job_id: int) -> None:
    jobs = repository.list_training_jobs(store, job_id)
    best = aggregates.best_training_job(store, job_id, "Maximize")
    assert best == best_training_job(jobs, "Maximize") and best is not None and best.number == 3
    assert aggregates.best_training_job(store, job_id, "Minimize").number == 1  # type: ignore[union-attr]


def test_pages_sort_like_the_listing_in_memory(store: Store, job_id: int) -> None:
    jobs = repository.list_training_jobs(store, job_id)
    by_objective = sorted(jobs, key=lambda j: (j.final_objective is None, -(j.final_objective or 0.0), j.number))
    page = repository.page_training_jobs(store, job_id, "objective", maximize=True, limit=3, offset=1)
    assert [j.number for j in page] == [j.number for j in by_objective[1:4]] == [3, 5, 1]


def test_metric_summary_counts_objective_values_and_keeps_each_metric_last_value(store: Store, job_id: int) -> None:
    steps, last = aggregates.metric_summary(store, job_id, "auc", ["f1"])
    first = repository.list_training_jobs(store, job_id)[0]
    assert steps[first.id] == 3 and last[(first.id, "f1")] == 1 + 2
    # In the order they ended: jobs 5, 2, 1 and 3 (job 8 was stopped without a value).
    assert aggregates.scored_objectives(store, job_id) == [0.9, 0.95, 0.7, 0.9]
