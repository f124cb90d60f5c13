"""Reads sized for a server: counts, the best training job and one page of training jobs, done in the database.

The CLI's functions (``analytics.training_job_list``, ``tuning_job_summaries``, ``repo.get_training_job``)
load every training job of a tuning job, about 50 µs each: half a second for 10,000, too slow for a
page that updates live. These answer the same questions with GROUP BY, ORDER BY ... LIMIT and WHERE,
and return the same records and ``Progress``, so the API shows exactly what the CLI shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from modeltune.analytics.listing import TrainingJobOrder, TuningJobSummary
from modeltune.analytics.progress import Progress
from modeltune.core import ObjectiveType, TrainingJobStatus
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, TuningJob
from modeltune.store import repository as repo
from modeltune.store.schema import TrainingJobRow


@dataclass(frozen=True)
class Overview:
    """A tuning job with its spec, progress, counts by status, best training job and its latest end."""

    job: TuningJob
    spec: TuningJobSpec
    progress: Progress
    counts: dict[str, int]
    best: TrainingJob | None
    last_ended: datetime | None

    @property
    def summary(self) -> TuningJobSummary:
        """The list entry ``modeltune list`` shows."""
        return TuningJobSummary(self.job, self.spec, self.progress)


def best(store: Store, job: TuningJob, spec: TuningJobSpec) -> TrainingJob | None:
    """``core.best_training_job`` in SQL: the best Completed one (ties: lowest number), else the best Stopped one."""
    value = TrainingJobRow.final_objective
    order = value.desc() if spec.objective.type == ObjectiveType.MAXIMIZE else value.asc()
    with store.read() as session:
        for status in (TrainingJobStatus.COMPLETED, TrainingJobStatus.STOPPED):
            row = session.scalars(
                select(TrainingJobRow)
                .where(TrainingJobRow.tuning_job_id == job.id, TrainingJobRow.status == status, value.is_not(None))
                .order_by(order, TrainingJobRow.number)
                .limit(1)
            ).first()
            if row is not None:
                return TrainingJob.of(row)
    return None


def overview(store: Store, job: TuningJob) -> Overview:
    """Counts by status, progress and the best training job of ``job`` in three small queries."""
    spec = TuningJobSpec.model_validate(job.spec)
    with store.read() as session:
        grouped = session.execute(
            select(TrainingJobRow.status, func.count(), func.max(TrainingJobRow.ended_at))
            .where(TrainingJobRow.tuning_job_id == job.id)
            .group_by(TrainingJobRow.status)
        ).all()
    counts = {TrainingJobStatus(status): count for status, count, _ in grouped}
    ends = [ended for _, _, ended in grouped if ended is not None]
    top = best(store, job, spec)
    progress = Progress(
        status=job.status,
        total=spec.max_jobs,
        done=sum(n for s, n in counts.items() if s.terminal),
        running=sum(n for s, n in counts.items() if s.running),
        failed=counts.get(TrainingJobStatus.FAILED, 0),
        best_value=top.final_objective if top else None,
        best_name=top.name if top else None,
    )
    by_name = {
        "Completed": counts.get(TrainingJobStatus.COMPLETED, 0),
        "Failed": progress.failed,
        "Stopped": counts.get(TrainingJobStatus.STOPPED, 0),
        "InProgress": progress.running,
    }
    return Overview(job, spec, progress, by_name, top, max(ends, default=None))


def _order(order: TrainingJobOrder, spec: TuningJobSpec) -> list[Any]:
    """ORDER BY terms matching ``analytics.training_job_list``'s sort keys (missing values last)."""
    number = TrainingJobRow.number
    if order == "objective":
        value = TrainingJobRow.final_objective
        direction = value.desc() if spec.objective.type == ObjectiveType.MAXIMIZE else value.asc()
        return [value.is_(None), direction, number]
    if order == "time":
        started = func.coalesce(TrainingJobRow.started_at, TrainingJobRow.created_at)
        return [TrainingJobRow.started_at.is_(None), started, number]
    return [number]


def training_job_page(
    store: Store, job: TuningJob, spec: TuningJobSpec, order: TrainingJobOrder, offset: int, limit: int
) -> tuple[list[TrainingJob], int]:
    """One page of the tuning job's training jobs in ``order``, and how many there are in all."""
    where: ColumnElement[bool] = TrainingJobRow.tuning_job_id == job.id
    with store.read() as session:
        total = session.scalar(select(func.count()).select_from(TrainingJobRow).where(where)) or 0
        rows = session.scalars(
            select(TrainingJobRow).where(where).order_by(*_order(order, spec)).offset(offset).limit(limit)
        )
        return [TrainingJob.of(r) for r in rows], total


def training_job(store: Store, job: TuningJob, name: str) -> TrainingJob:
    """A training job of ``job`` by its full name or number (``repo.get_training_job`` without reading them all).

    Raises:
        NotFoundError: no such training job (the message suggests a close name).
    """
    match = TrainingJobRow.name == name
    if name.isdigit() and len(name) < 10:
        match = match | (TrainingJobRow.number == int(name))
    with store.read() as session:
        row = session.scalars(
            select(TrainingJobRow).where(TrainingJobRow.tuning_job_id == job.id, match).limit(1)
        ).first()
    if row is None:
        return repo.get_training_job(store, job, name)  # raises NotFoundError with its hint
    return TrainingJob.of(row)
