"""Store functions for training jobs that other processes run: workers, their claims and heartbeats,
lost training jobs, log text shipped from other machines, and packed source code.

A worker claims Pending training jobs nobody owns (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
MySQL/MariaDB, the write lock on SQLite), so each runs exactly once; it then holds them under a
lease it renews with its heartbeat. A lease that expires means the worker is lost: the controller
marks its training jobs Failed (retryable), and the worker's own late writes no longer apply.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Update, and_, any_, bindparam, delete, func, or_, select, true, update
from sqlalchemy.orm import Session

from modeltune.core import (
    RUNNING_TRAINING,
    UPLOAD_FAILED,
    MetricValue,
    TrainingJobStatus,
    TuningJobStatus,
    utcnow,
)
from modeltune.store import repository as repo
from modeltune.store.connection import Store, at_once, for_psycopg, retried, run_on_driver
from modeltune.store.records import MODEL_UNKEPT, TrainingJob
from modeltune.store.schema import (
    Base,
    CodePackageRow,
    LogChunkRow,
    MetricValueRow,
    TrainingJobRow,
    TuningJobRow,
    WorkerRow,
)

# A worker renews its hold on its training jobs every HEARTBEAT_SECONDS; one silent this long is lost.
# (MODELTUNE_WORK_LEASE_SECONDS shortens it, e.g. for tests; it must stay well above the heartbeat.)
WORK_LEASE_SECONDS = float(os.environ.get("MODELTUNE_WORK_LEASE_SECONDS", 15.0))
HEARTBEAT_SECONDS = min(2.0, WORK_LEASE_SECONDS / 5)
_RUNNING = [s.value for s in RUNNING_TRAINING]


@dataclass(frozen=True)
class Worker:
    """A ``modeltune worker`` process as recorded."""

    id: str
    host: str
    pid: int
    slots: int
    tuning_job: str | None
    started_at: datetime
    heartbeat_at: datetime
    ended_at: datetime | None
    running: int = 0

    @property
    def alive(self) -> bool:
        """True while it has not ended and its heartbeat is recent."""
        return self.ended_at is None and utcnow() - self.heartbeat_at < timedelta(seconds=WORK_LEASE_SECONDS)


@retried
def register_worker(store: Store, worker_id: str, host: str, pid: int, slots: int, tuning_job: str | None) -> None:
    """Record a worker that starts."""
    now = utcnow()
    with store.write() as session:
        session.add(
            WorkerRow(
                id=worker_id, host=host, pid=pid, slots=slots, tuning_job=tuning_job, started_at=now, heartbeat_at=now
            )
        )


@retried
def end_worker(store: Store, worker_id: str) -> None:
    """Record that a worker stopped."""
    with store.write() as session:
        session.execute(update(WorkerRow).where(WorkerRow.id == worker_id).values(ended_at=utcnow()))


def list_workers(store: Store) -> list[Worker]:
    """Workers that have not ended, most recent first, with how many training jobs each runs."""
    with store.read() as session:
        rows = session.scalars(
            select(WorkerRow).where(WorkerRow.ended_at.is_(None)).order_by(WorkerRow.started_at.desc())
        )
        counts = dict(
            session.execute(
                select(TrainingJobRow.owner, func.count())
                .where(TrainingJobRow.status.in_(_RUNNING), TrainingJobRow.owner.is_not(None))
                .group_by(TrainingJobRow.owner)
            ).all()
        )
        return [
            Worker(
                r.id,
                r.host,
                r.pid,
                r.slots,
                r.tuning_job,
                r.started_at,
                r.heartbeat_at,
                r.ended_at,
                counts.get(r.id, 0),
            )
            for r in rows
        ]


@retried
def heartbeat(store: Store, worker_id: str) -> None:
    """Renew a worker's hold on the training jobs it runs or whose model it keeps, and its own heartbeat, in
    one transaction."""
    with store.write() as session:
        _beat(session, worker_id)


def _beat(session: Session, worker_id: str) -> None:
    """``heartbeat``'s statements, in a transaction of the caller's."""
    now = utcnow()
    connection = session.connection()
    connection.execute(_RENEW_HOLDS, {"worker": worker_id, "expires": now + timedelta(seconds=WORK_LEASE_SECONDS)})
    connection.execute(_BEAT, {"worker": worker_id, "now": now})


_RENEW_HOLDS = (
    update(TrainingJobRow)
    .where(TrainingJobRow.owner == bindparam("worker"), or_(TrainingJobRow.status.in_(_RUNNING), MODEL_UNKEPT))
    .values(owner_expires_at=bindparam("expires"))
)
_BEAT = update(WorkerRow).where(WorkerRow.id == bindparam("worker")).values(heartbeat_at=bindparam("now"))


@retried
def claim_training_jobs(store: Store, worker_id: str, count: int, tuning_job: str | None = None) -> list[TrainingJob]:
    """Up to ``count`` Pending training jobs that no one owns (of running tuning jobs, or of ``tuning_job``),
    now owned by ``worker_id``; oldest first. Two workers never get the same training job."""
    if count <= 0:
        return []
    expires = utcnow() + timedelta(seconds=WORK_LEASE_SECONDS)
    if store.backend == "postgresql":  # one statement, so one round trip, whether there is work or not
        with store.autocommit() as session:
            named = {"tuning_job": tuning_job} if tuning_job is not None else {}
            rows = session.connection().execute(
                _CLAIM if tuning_job is None else _CLAIM_NAMED,
                {"worker": worker_id, "expires": expires, "count": count, **named},
            )
            return _claimed(rows)
    tuning_job_ids = _waiting_tuning_jobs(store, tuning_job)
    if not tuning_job_ids:
        return []
    with store.write() as session:
        query = (
            select(TrainingJobRow)
            .where(
                TrainingJobRow.tuning_job_id.in_(tuning_job_ids),
                TrainingJobRow.status == TrainingJobStatus.PENDING,
                TrainingJobRow.owner.is_(None),
            )
            .order_by(TrainingJobRow.id)
            .limit(count)
        )
        if session.get_bind().dialect.name != "sqlite":  # SQLite's write lock already serialises claims
            query = query.with_for_update(skip_locked=True)
        claimed = [TrainingJob.of(row) for row in session.scalars(query)]
        if not claimed:
            return []
        session.execute(
            update(TrainingJobRow)
            .where(TrainingJobRow.id.in_([record.id for record in claimed]))
            .values(owner=worker_id, owner_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        return [replace(record, owner=worker_id, owner_expires_at=expires) for record in claimed]


def _claimed(rows: Iterable[Sequence[Any]]) -> list[TrainingJob]:
    """The training jobs of a claim's returned rows, oldest first."""
    return sorted((TrainingJob.of_columns(row) for row in rows), key=lambda record: record.id)


# Running tuning jobs with training jobs that wait for a worker. Built once: idle workers ask often.
_WAITING = (
    select(TuningJobRow.id)
    .join(TrainingJobRow)
    .where(
        TuningJobRow.status == TuningJobStatus.IN_PROGRESS,
        TrainingJobRow.status == TrainingJobStatus.PENDING,
        TrainingJobRow.owner.is_(None),
    )
    .distinct()
)
_WAITING_NAMED = _WAITING.where(TuningJobRow.name == bindparam("name"))


def _claim(waiting_named: bool) -> Update:
    """PostgreSQL's claim in one statement: lock up to ``count`` waiting training jobs, skipping those another
    worker is claiming at the same moment, and take them (``FOR UPDATE`` re-checks a row that changed)."""
    jobs, tuning_jobs = Base.metadata.tables["training_jobs"], Base.metadata.tables["tuning_jobs"]
    waiting = (
        select(jobs.c.id)
        .join(tuning_jobs, tuning_jobs.c.id == jobs.c.tuning_job_id)
        .where(
            tuning_jobs.c.status == TuningJobStatus.IN_PROGRESS,
            jobs.c.status == TrainingJobStatus.PENDING,
            jobs.c.owner.is_(None),
        )
        .order_by(jobs.c.id)
        .limit(bindparam("count"))
        .with_for_update(of=jobs, skip_locked=True)
    )
    if waiting_named:
        waiting = waiting.where(tuning_jobs.c.name == bindparam("tuning_job"))
    return (
        update(jobs)
        .where(jobs.c.id.in_(waiting))
        .values(owner=bindparam("worker"), owner_expires_at=bindparam("expires"))
        .returning(*TrainingJob.columns())
    )


_CLAIM, _CLAIM_NAMED = _claim(False), _claim(True)


class Exchange(NamedTuple):
    """What a worker's ``exchange`` with the store brought back."""

    not_held: set[int]  # training jobs whose changes were not applied: the worker no longer holds them
    claimed: list[TrainingJob]  # training jobs it now holds, oldest first
    stopping: list[TrainingJob]  # its training jobs whose stop was recorded (when it looked for stops)


@retried
def exchange(
    store: Store,
    worker_id: str,
    changes: repo.TrainingJobChanges,
    claim: int = 0,
    tuning_job: str | None = None,
    beat: bool = False,
    look_for_stops: bool = False,
) -> Exchange:
    """One look of a worker at the store: its ``changes`` written (``repository.record_changes``), up to ``claim``
    training jobs claimed for it (``claim_training_jobs``), and, when asked, its heartbeat (``heartbeat``) and
    its training jobs to stop (``stopping_training_jobs``). On PostgreSQL all of it in one transaction and one
    round trip: the claim takes a slot an ending in ``changes`` frees, and the heartbeat and the look for
    stops, due every few seconds, cost no exchange of their own."""
    if store.backend != "postgresql":
        not_held = repo.record_changes(store, changes, worker_id) if changes else set()
        if beat:
            heartbeat(store, worker_id)
        stopping = stopping_training_jobs(store, worker_id) if look_for_stops else []
        return Exchange(not_held, claim_training_jobs(store, worker_id, claim, tuning_job), stopping)
    if not (changes or claim > 0 or beat or look_for_stops):
        return Exchange(set(), [], [])
    expires = utcnow() + timedelta(seconds=WORK_LEASE_SECONDS)
    parameters = {"worker": worker_id, "count": claim, "tuning_job": tuning_job, "expires": expires}
    with store.write_at_once() as session:
        written = repo.write_changes(session, changes, worker_id) if changes else set
        claimed = run_on_driver(session, _CLAIM_FOR_PSYCOPG[tuning_job is not None], parameters) if claim > 0 else None
        if beat:
            _beat(session, worker_id)
        stops = run_on_driver(session, _STOPPING_FOR_PSYCOPG, {"worker": worker_id}) if look_for_stops else None
    return Exchange(
        written(),
        _claimed(claimed.fetchall()) if claimed is not None else [],
        [TrainingJob.of_columns(row) for row in stops.fetchall()] if stops is not None else [],
    )


# The claims as exchange runs them (False: of any tuning job; True: of a named one).
_CLAIM_FOR_PSYCOPG = [for_psycopg(_CLAIM), for_psycopg(_CLAIM_NAMED)]


def _waiting_tuning_jobs(store: Store, tuning_job: str | None) -> list[int]:
    """The running tuning jobs (or ``tuning_job``, when it runs) with training jobs waiting for a worker: a
    plain read, so idle workers take no write lock."""
    with store.read() as session:
        if tuning_job is None:
            return list(session.scalars(_WAITING))
        return list(session.scalars(_WAITING_NAMED, {"name": tuning_job}))


def stopping_training_jobs(store: Store, worker_id: str) -> list[TrainingJob]:
    """The training jobs ``worker_id`` owns whose stop the controller recorded (status Stopping). A worker
    asks twice a second while it runs training jobs, and the answer is almost always none."""
    with store.read() as session:
        rows = session.execute(_STOPPING, {"worker": worker_id})
        return [TrainingJob.of_columns(row) for row in rows]


_STOPPING = select(*TrainingJob.columns()).where(
    TrainingJobRow.owner == bindparam("worker"), TrainingJobRow.status == TrainingJobStatus.STOPPING
)
_STOPPING_FOR_PSYCOPG = for_psycopg(_STOPPING)


def followed_training_jobs(
    store: Store, after: Mapping[int, int]
) -> tuple[list[TrainingJob], dict[int, list[MetricValue]], dict[int, int]]:
    """What a controller follows of training jobs that workers run, in one read: the records of the
    training jobs in ``after`` as stored; by training job, its metric values stored after the value with
    id ``after[training job id]``; and by training job, the id of the newest of those values.

    Watermarks are per training job: one worker writes a training job's values in order, while values
    of different training jobs may commit out of id order.
    """
    if not after:
        return [], {}, {}
    found: dict[int, list[MetricValue]] = {}
    newest: dict[int, int] = {}
    # Records first: values committed with an ending are then seen too.
    if store.backend == "postgresql":  # both reads in one round trip
        ids = {"ids": list(after), "after": list(after.values())}
        with store.read() as session, at_once(session):
            jobs = run_on_driver(session, _FOLLOWED_JOBS, ids)
            values = run_on_driver(session, _FOLLOWED_VALUES, ids)
        job_rows, value_rows = jobs.fetchall(), values.fetchall()
    else:
        newer = or_(*(and_(MetricValueRow.training_job_id == t, MetricValueRow.id > v) for t, v in after.items()))
        with store.read() as session:
            job_rows = session.execute(select(*TrainingJob.columns()).where(TrainingJobRow.id.in_(list(after)))).all()
            value_rows = session.execute(_VALUE_COLUMNS.where(newer).order_by(MetricValueRow.id)).all()
    for training_job_id, value_id, name, value, step, timestamp in value_rows:
        found.setdefault(training_job_id, []).append(MetricValue(name, value, step, timestamp))
        newest[training_job_id] = value_id
    return [TrainingJob.of_columns(row) for row in job_rows], found, newest


_VALUE_COLUMNS = select(
    MetricValueRow.training_job_id,
    MetricValueRow.id,
    MetricValueRow.name,
    MetricValueRow.value,
    MetricValueRow.step,
    MetricValueRow.timestamp,
)
# PostgreSQL's reads of followed_training_jobs, given the arrays ``ids`` and ``after`` (a watermark per id).
_FOLLOWED_JOBS = for_psycopg(select(*TrainingJob.columns()).where(TrainingJobRow.id == any_(bindparam("ids"))))
_WATERMARKS = func.unnest(bindparam("ids"), bindparam("after")).table_valued("training_job_id", "after_id")
_WATERMARKS = _WATERMARKS.render_derived()
_FOLLOWED_VALUES = for_psycopg(
    _VALUE_COLUMNS.join(
        _WATERMARKS,
        and_(
            MetricValueRow.training_job_id == _WATERMARKS.c.training_job_id,
            MetricValueRow.id > _WATERMARKS.c.after_id,
        ),
    ).order_by(MetricValueRow.id)
)


def newest_metric_value_id(store: Store) -> int:
    """The id of the newest metric value in the store (0 for none)."""
    with store.read() as session:
        return session.scalar(select(func.max(MetricValueRow.id))) or 0


@retried
def expire_lost(store: Store, tuning_job_id: int | None = None) -> list[int]:
    """Mark Failed (retryable) the unfinished training jobs of a tuning job (None: of every tuning job) whose
    owner stopped renewing its hold; their ids. A worker that comes back later finds it no longer owns them.
    Ended training jobs whose model that owner was still keeping stay as they ended, with the reason their
    model artifact is missing."""
    now = utcnow()
    of_tuning_job = TrainingJobRow.tuning_job_id == tuning_job_id if tuning_job_id is not None else true()
    with store.write() as session:
        lost = list(
            session.execute(
                select(
                    TrainingJobRow.id,
                    TrainingJobRow.owner,
                    TrainingJobRow.owner_expires_at,
                    TrainingJobRow.status,
                    TrainingJobRow.status_reason,
                    TrainingJobRow.output_dir,
                ).where(
                    of_tuning_job,
                    or_(TrainingJobRow.status.in_(_RUNNING), MODEL_UNKEPT),
                    TrainingJobRow.owner.is_not(None),
                    TrainingJobRow.owner_expires_at < now,
                )
            )
        )
        unfinished = []
        for training_job_id, owner, expired, status, reason, output_dir in lost:
            why = f"worker lost: {owner} stopped renewing its hold (expired {_iso(expired)})"
            if status in _RUNNING:
                unfinished.append(training_job_id)
                values = {
                    "status": TrainingJobStatus.FAILED,
                    "status_reason": why,
                    "ended_at": now,
                    "retryable": True,
                    "owner": None,
                }
            else:  # its result stands; its model stayed on that worker's machine, if anywhere
                missing = f"{UPLOAD_FAILED}: {why} before keeping it; it may be in {output_dir}/model there"
                values = {"status_reason": "; ".join(filter(None, [reason, missing])), "owner_expires_at": None}
            session.execute(
                update(TrainingJobRow)
                .where(TrainingJobRow.id == training_job_id, TrainingJobRow.owner == owner)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return unfinished


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") + "Z" if moment else "at an unknown time"


def read_log(store: Store, training_job_id: int, after_offset: int = -1) -> list[tuple[int, str]]:
    """Shipped pieces of a training job's log that start after ``after_offset``, in order: (offset, text)."""
    with store.read() as session:
        rows = session.execute(
            select(LogChunkRow.offset, LogChunkRow.data)
            .where(LogChunkRow.training_job_id == training_job_id, LogChunkRow.offset > after_offset)
            .order_by(LogChunkRow.offset)
        )
        return [(offset, data) for offset, data in rows]


@retried
def put_code_package(store: Store, tuning_job_id: int, digest: str, data: bytes) -> None:
    """Keep a tuning job's packed source code (replacing an earlier package of it)."""
    with store.write() as session:
        session.execute(delete(CodePackageRow).where(CodePackageRow.tuning_job_id == tuning_job_id))
        session.add(CodePackageRow(tuning_job_id=tuning_job_id, digest=digest, size=len(data), data=data))


def code_package_digest(store: Store, tuning_job_id: int) -> str | None:
    """The digest of a tuning job's packed source code, or None when it has none."""
    with store.read() as session:
        return session.scalar(select(CodePackageRow.digest).where(CodePackageRow.tuning_job_id == tuning_job_id))


def code_package(store: Store, tuning_job_id: int) -> bytes | None:
    """A tuning job's packed source code, or None when it has none."""
    with store.read() as session:
        return session.scalar(select(CodePackageRow.data).where(CodePackageRow.tuning_job_id == tuning_job_id))
