"""Counts, best training jobs and metric summaries computed by the database, so that reading a tuning job
of 10,000 training jobs does not load them all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from modeltune.core import TrainingJobCounts, TrainingJobStatus
from modeltune.core.objective import ObjectiveType
from modeltune.store.connection import Store
from modeltune.store.records import TrainingJob
from modeltune.store.schema import MetricValueRow, TrainingJobRow


def training_job_counts(store: Store, tuning_job_ids: Sequence[int]) -> dict[int, TrainingJobCounts]:
    """The counts of each tuning job's training jobs (one query for all of them)."""
    row = TrainingJobRow
    has_objective = row.final_objective.is_not(None)
    query = (
        select(row.tuning_job_id, row.status, row.retryable, has_objective, func.count(), func.max(row.ended_at))
        .where(row.tuning_job_id.in_(list(tuning_job_ids)))
        .group_by(row.tuning_job_id, row.status, row.retryable, has_objective)
    )
    groups: dict[int, list[Any]] = {job_id: [] for job_id in tuning_job_ids}
    with store.read() as session:
        for group in session.execute(query):
            groups[group[0]].append(group[1:])
    return {job_id: _counts(rows) for job_id, rows in groups.items()}


def _counts(groups: list[Any]) -> TrainingJobCounts:
    by_status: dict[TrainingJobStatus, int] = {}
    retryable = scored = 0
    ends = []
    for status_name, is_retryable, has_objective, count, last_end in groups:
        status = TrainingJobStatus(status_name)
        by_status[status] = by_status.get(status, 0) + count
        retryable += count if status == TrainingJobStatus.FAILED and is_retryable else 0
        scored += count if status.scored and has_objective else 0
        ends += [last_end] if last_end is not None else []
    return TrainingJobCounts(by_status, retryable, scored, max(ends, default=None))


def best_training_job(store: Store, tuning_job_id: int, objective_type: str) -> TrainingJob | None:
    """The stored training job with the best final objective, as ``modeltune.core.best_training_job`` picks
    it among all of them: Completed before Stopped, ties to the lowest number."""
    row = TrainingJobRow
    maximize = ObjectiveType(objective_type) == ObjectiveType.MAXIMIZE
    for status in (TrainingJobStatus.COMPLETED, TrainingJobStatus.STOPPED):
        query = (
            select(*TrainingJob.columns())
            .where(row.tuning_job_id == tuning_job_id, row.status == status, row.final_objective.is_not(None))
            .order_by(row.final_objective.desc() if maximize else row.final_objective, row.number)
            .limit(1)
        )
        with store.read() as session:
            found = session.execute(query).first()
        if found is not None:
            return TrainingJob.of_columns(found)
    return None


def scored_objectives(store: Store, tuning_job_id: int) -> list[float]:
    """Final objective values of the Completed and Stopped training jobs, in the order they ended."""
    row = TrainingJobRow
    query = (
        select(row.final_objective)
        .where(
            row.tuning_job_id == tuning_job_id,
            row.status.in_([TrainingJobStatus.COMPLETED, TrainingJobStatus.STOPPED]),
            row.final_objective.is_not(None),
        )
        .order_by(func.coalesce(row.ended_at, row.created_at), row.number)
    )
    with store.read() as session:
        return [float(value) for value in session.scalars(query) if value is not None]


def started_before(store: Store, job: TrainingJob) -> int:
    """How many training jobs of ``job``'s tuning job started before it or with it (ties by number)."""
    row = TrainingJobRow
    if job.started_at is None:
        return 0
    earlier = (row.started_at < job.started_at) | ((row.started_at == job.started_at) & (row.number <= job.number))
    query = select(func.count()).where(row.tuning_job_id == job.tuning_job_id, earlier)
    with store.read() as session:
        return session.scalar(query) or 0


def metric_summary(
    store: Store, tuning_job_id: int, objective: str, others: Sequence[str]
) -> tuple[dict[int, int], dict[tuple[int, str], float]]:
    """Per training job of a tuning job: how many ``objective`` values it emitted, and the last value of
    each metric in ``others`` (by training job id and metric name)."""
    value, job = MetricValueRow, TrainingJobRow
    of_job = value.training_job_id.in_(select(job.id).where(job.tuning_job_id == tuning_job_id))
    steps_query = select(value.training_job_id, func.count()).where(of_job, value.name == objective)
    last: dict[tuple[int, str], float] = {}
    with store.read() as session:
        steps = {tid: count for tid, count in session.execute(steps_query.group_by(value.training_job_id))}
        if others:
            latest = (
                select(func.max(value.id).label("id"))
                .where(of_job, value.name.in_(list(others)))
                .group_by(value.training_job_id, value.name)
                .subquery()
            )
            rows = session.execute(
                select(value.training_job_id, value.name, value.value).join(latest, value.id == latest.c.id)
            )
            last = {(tid, name): metric for tid, name, metric in rows}
    return steps, last
