"""Store functions for ask/tell evaluations: training jobs that the processes asking for them run themselves.

Any number of ``modeltune.Optimizer`` processes, on any machines, share one tuning job. Each ask
takes the tuning job's row lock (``FOR UPDATE`` on PostgreSQL and MySQL/MariaDB, the write lock on
SQLite), reads every training job, lets the strategy choose and stores the choices as InProgress
training jobs owned by the asking process, in one transaction: so no two processes get the same
point, the budget holds across all of them, and numbering has no gaps. The owner then renews its
hold with the workers' heartbeat (``work.heartbeat``); a hold that expires means the process is lost,
and ``work.expire_lost`` ends its evaluations Failed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from modeltune.core import RUNNING_TRAINING, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.errors import NotFoundError
from modeltune.store.connection import Store, retried
from modeltune.store.leases import LEASE_SECONDS
from modeltune.store.records import TrainingJob, TuningJob
from modeltune.store.schema import MetricValueRow, TrainingJobRow, TuningJobRow
from modeltune.store.work import WORK_LEASE_SECONDS

# The tuning job's lease holder while ask/tell processes use it: all of them renew it, so the job shows
# as running (not interrupted) while any is alive, and no controller takes it over.
ASK_TELL_HOLDER = "ask-tell"
_RUNNING = [s.value for s in RUNNING_TRAINING]

# Chooses the hyperparameters of the evaluations to start, given the tuning job, its training jobs that
# changed (see ``start_evaluations``) and, when asked for, every objective curve.
Chooser = Callable[[TuningJob, list[TrainingJob], dict[int, list[tuple[float, float]]]], list[dict[str, Any]]]


@retried
def start_evaluations(
    store: Store,
    tuning_job_id: int,
    owner: str,
    choose: Chooser,
    after_id: int = 0,
    unfinished: Collection[int] = (),
    curves_of: str | None = None,
) -> list[TrainingJob]:
    """Store the evaluations ``choose`` picks as InProgress training jobs owned by ``owner``, one transaction.

    ``choose`` runs while this process holds the tuning job's lock, so it sees every evaluation any
    process started before and none starts until these are stored. It gets the training jobs with an id
    above ``after_id`` and those in ``unfinished`` (the caller's running ones, which may have ended since):
    only these can have changed since the caller last looked, as ended training jobs never change and
    this lock orders the ids. ``curves_of``: the objective metric whose values ``choose`` needs.
    """
    with store.write() as session:
        query = select(TuningJobRow).where(TuningJobRow.id == tuning_job_id)
        dialect = session.get_bind().dialect.name
        if dialect != "sqlite":  # SQLite's write lock already serialises writers
            query = query.with_for_update()
        if dialect == "postgresql":
            # The lock is held until the commit: not waiting for its flush to disk lets the next process ask
            # at once. A server crash may then forget the last evaluations started (never a result told).
            session.execute(text("SET LOCAL synchronous_commit = off"))
        row = session.scalars(query).first()
        if row is None:
            raise NotFoundError(f"tuning job {tuning_job_id} is no longer in the store")
        job = TuningJob.of(row)
        changed = TrainingJobRow.id > after_id
        if unfinished:
            changed = or_(changed, TrainingJobRow.id.in_(list(unfinished)))
        rows = session.scalars(
            select(TrainingJobRow)
            .where(TrainingJobRow.tuning_job_id == tuning_job_id, changed)
            .order_by(TrainingJobRow.number)
        )
        records = [TrainingJob.of(r) for r in rows]
        curves = _curves(session, tuning_job_id, curves_of) if curves_of is not None else {}
        chosen = choose(job, records, curves)
        number = session.scalar(
            select(func.max(TrainingJobRow.number)).where(TrainingJobRow.tuning_job_id == tuning_job_id)
        )
        number = number or 0
        folder = store.jobs_folder() / job.name
        now = utcnow()
        new_rows = []
        for hyperparameters in chosen:
            number += 1
            name = f"{job.name}-{number:03d}"
            new_rows.append(
                TrainingJobRow(
                    tuning_job_id=tuning_job_id,
                    number=number,
                    name=name,
                    status=TrainingJobStatus.IN_PROGRESS,
                    hyperparameters=hyperparameters,
                    created_at=now,
                    started_at=now,
                    log_path=str(folder / name / "training.log"),
                    output_dir=str(folder / name),
                    owner=owner,
                    owner_expires_at=now + timedelta(seconds=WORK_LEASE_SECONDS),
                )
            )
        session.add_all(new_rows)
        session.flush()
        return [TrainingJob.of(r) for r in new_rows]


@retried
def renew_shared_lease(store: Store, tuning_job_id: int, pid: int, host: str) -> bool:
    """Mark the tuning job as used by ask/tell processes (this one the latest seen alive), unless a
    controller holds it; False when one does."""
    now = utcnow()
    holder = TuningJobRow.lease_owner
    with store.write() as session:
        renewed = session.execute(
            update(TuningJobRow)
            .where(
                TuningJobRow.id == tuning_job_id,
                or_(holder.is_(None), holder == ASK_TELL_HOLDER, TuningJobRow.lease_expires_at < now),
            )
            .values(
                lease_owner=ASK_TELL_HOLDER,
                lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
                heartbeat_at=now,
                controller_pid=pid,
                controller_host=host,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


@retried
def finish_evaluation(
    store: Store, tuning_job_id: int, training_job_id: int, owner: str, max_jobs: int, **fields: Any
) -> bool:
    """Set the columns of an evaluation that ``owner`` still holds (False when it no longer does), and end
    the tuning job Completed if that was the last one of its budget, in one transaction."""
    with store.write() as session:
        changed = session.execute(
            update(TrainingJobRow)
            .where(
                TrainingJobRow.id == training_job_id,
                TrainingJobRow.owner == owner,
                TrainingJobRow.status.in_(_RUNNING),
            )
            .values(**fields)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            return False
        if _spent(session, tuning_job_id, max_jobs):
            _complete(session, tuning_job_id, max_jobs)
        return True


@retried
def complete_if_spent(store: Store, tuning_job_id: int, max_jobs: int) -> bool:
    """End the tuning job Completed once ``max_jobs`` evaluations were started and none still runs;
    True if this call ended it."""
    with store.write() as session:
        return _complete(session, tuning_job_id, max_jobs)


def _spent(session: Session, tuning_job_id: int, max_jobs: int) -> bool:
    """Whether the budget is started in full and nothing runs (a plain read: no lock on the tuning job)."""
    own = TrainingJobRow.tuning_job_id == tuning_job_id
    started = session.scalar(select(func.count(TrainingJobRow.id)).where(own, TrainingJobRow.retry_of.is_(None)))
    running = session.scalar(select(TrainingJobRow.id).where(own, TrainingJobRow.status.in_(_RUNNING)).limit(1))
    return (started or 0) >= max_jobs and running is None


def _complete(session: Session, tuning_job_id: int, max_jobs: int) -> bool:
    own = TrainingJobRow.tuning_job_id == TuningJobRow.id
    started = select(func.count(TrainingJobRow.id)).where(own, TrainingJobRow.retry_of.is_(None)).scalar_subquery()
    running = exists().where(and_(own, TrainingJobRow.status.in_(_RUNNING)))
    ended = session.execute(
        update(TuningJobRow)
        .where(
            TuningJobRow.id == tuning_job_id,
            TuningJobRow.status == TuningJobStatus.IN_PROGRESS,
            started >= max_jobs,
            ~running,
        )
        .values(status=TuningJobStatus.COMPLETED, ended_at=utcnow(), lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def objective_curves(store: Store, tuning_job_id: int, metric: str) -> dict[int, list[tuple[float, float]]]:
    """The ``(step, value)`` points of ``metric`` of every training job of a tuning job, oldest first."""
    with store.read() as session:
        return _curves(session, tuning_job_id, metric)


def _curves(session: Session, tuning_job_id: int, metric: str) -> dict[int, list[tuple[float, float]]]:
    curves: dict[int, list[tuple[float, float]]] = {}
    rows = session.execute(
        select(MetricValueRow.training_job_id, MetricValueRow.step, MetricValueRow.value)
        .join(TrainingJobRow)
        .where(TrainingJobRow.tuning_job_id == tuning_job_id, MetricValueRow.name == metric)
        .order_by(MetricValueRow.id)
    )
    for training_job_id, step, value in rows:
        curves.setdefault(training_job_id, []).append((step, value))
    return curves
