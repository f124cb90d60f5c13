"""The server's reads answer exactly as the same figures computed in memory from every training job, on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from modeltune.analytics.progress import Progress
from modeltune.core import ObjectiveType, TrainingJobCounts, TrainingJobStatus, best_training_job, utcnow
from modeltune.errors import NotFoundError
from modeltune.spec import parse_spec
from modeltune.store import Store, TrainingJob, TuningJob
from modeltune.store import repository as repo
from modeltune.web import queries
from store.conftest import backend, store  # noqa: F401  (a store on every backend)

from helpers import toy_spec

# (status, final objective, started seconds after the first): ties, missing values and a Stopped one.
JOBS = [
    (TrainingJobStatus.COMPLETED, 0.5, 30),
    (TrainingJobStatus.COMPLETED, 0.2, 10),
    (TrainingJobStatus.FAILED, None, 20),
    (TrainingJobStatus.STOPPED, 0.1, 0),
    (TrainingJobStatus.COMPLETED, 0.2, 40),
    (TrainingJobStatus.IN_PROGRESS, None, None),
    (TrainingJobStatus.PENDING, None, None),
]


def seeded(into: Store, objective: str) -> TuningJob:
    """A tuning job with the training jobs of ``JOBS``."""
    spec = parse_spec(toy_spec(name=f"q-{objective.lower()}", objective={"metric": "loss", "type": objective}))
    job = repo.create_tuning_job(into, spec.name, spec.model_dump(mode="json"))
    start = utcnow()
    for number, (status, value, offset) in enumerate(JOBS, start=1):
        new = repo.NewTrainingJob(number, f"{spec.name}-{number:03d}", {}, "log", "out")
        [record] = repo.add_training_jobs(into, job.id, [new])
        began = None if offset is None else start + timedelta(seconds=offset)
        ended = began + timedelta(seconds=5) if began and status.terminal else None
        repo.update_training_job(
            into, record.id, status=status, final_objective=value, started_at=began, ended_at=ended
        )
    return repo.get_tuning_job(into, spec.name)


def in_memory_order(job: TrainingJob, order: str, objective: str) -> tuple[object, ...]:
    """The sort key the listing promises: best objective first, started first, or by number."""
    if order == "objective":
        value = job.final_objective
        return (value is None, ObjectiveType(objective).loss(value or 0.0), job.number)
    if order == "time":
        return (job.started_at is None, job.started_at or job.created_at, job.number)
    return (job.number,)


@pytest.mark.parametrize("objective", ["Minimize", "Maximize"])
def test_overview_and_pages_match_the_cli_functions(store: Store, objective: str) -> None:  # noqa: F811
    job = seeded(store, objective)
    listed = repo.list_training_jobs(store, job.id)
    seen = queries.overview(store, job)
    best = best_training_job(listed, objective)
    assert seen.progress == Progress.of(job, seen.spec, TrainingJobCounts.of(listed), best)
    assert seen.counts == TrainingJobCounts.of(listed).counters()
    assert seen.best is not None and best is not None and seen.best.name == best.name
    assert seen.last_ended == max(j.ended_at for j in listed if j.ended_at)
    for order in ("objective", "number", "time"):
        expected = [j.name for j in sorted(listed, key=lambda j: in_memory_order(j, order, objective))]
        first, total = queries.training_job_page(store, job, seen.spec, order, 0, 4)
        rest, _ = queries.training_job_page(store, job, seen.spec, order, 4, 4)
        assert total == len(JOBS)
        assert [j.name for j in first + rest] == expected, order


def test_a_training_job_is_found_by_name_or_number_and_a_miss_suggests_one(store: Store) -> None:  # noqa: F811
    job = seeded(store, "Minimize")
    assert repo.get_training_job(store, job, "3").name == "q-minimize-003"
    assert repo.get_training_job(store, job, "q-minimize-005").number == 5
    with pytest.raises(NotFoundError, match="did you mean 'q-minimize-001'"):
        repo.get_training_job(store, job, "q-minimize-01")
