"""Store functions over tuning jobs, training jobs and metric values; each is one short transaction."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import Compiled

from modeltune.core import TERMINAL_TRAINING, MetricValue, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.errors import ConflictError, NotFoundError
from modeltune.store.connection import Store, for_psycopg, retried, run_on_driver
from modeltune.store.notices import NEWS_CHANNEL, WORK_CHANNEL
from modeltune.store.records import TrainingJob, TuningJob
from modeltune.store.schema import Base, MetricValueRow, TrainingJobRow, TuningJobRow


def create_tuning_job(store: Store, name: str, spec: dict[str, Any]) -> TuningJob:
    """Store a new tuning job (status InProgress); the name must be new."""
    row = TuningJobRow(name=name, spec=spec, status=TuningJobStatus.IN_PROGRESS, created_at=utcnow())
    try:
        with store.write() as session:
            session.add(row)
            session.flush()
            return TuningJob.of(row)
    except IntegrityError:
        raise ConflictError(
            f"a tuning job named {name!r} already exists in the store; choose a new name (e.g. --name {name}-2)"
        ) from None


def get_tuning_job(store: Store, name: str) -> TuningJob:
    """The tuning job called ``name``; NotFoundError suggests close names."""
    with store.read() as session:
        row = session.scalars(select(TuningJobRow).where(TuningJobRow.name == name)).first()
        if row is not None:
            return TuningJob.of(row)
        names = list(session.scalars(select(TuningJobRow.name)))
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; 'modeltune list' shows the tuning jobs"
    raise NotFoundError(f"no tuning job named {name!r} in the store{hint}")


def get_tuning_job_by_id(store: Store, job_id: int) -> TuningJob:
    """The tuning job with this id (NotFoundError once it was deleted)."""
    with store.read() as session:
        row = session.get(TuningJobRow, job_id)
        if row is None:
            raise NotFoundError(f"tuning job {job_id} is no longer in the store")
        return TuningJob.of(row)


def list_tuning_jobs(store: Store) -> list[TuningJob]:
    """Every tuning job, newest first."""
    with store.read() as session:
        rows = session.scalars(select(TuningJobRow).order_by(TuningJobRow.created_at.desc(), TuningJobRow.id.desc()))
        return [TuningJob.of(r) for r in rows]


@retried
def update_tuning_job(store: Store, job_id: int, **fields: Any) -> None:
    """Set columns of a tuning job."""
    with store.write() as session:
        session.execute(update(TuningJobRow).where(TuningJobRow.id == job_id).values(**fields))


@retried
def request_stop(store: Store, name: str) -> TuningJob:
    """Mark an InProgress tuning job Stopping; its controller then stops the training jobs."""
    job = get_tuning_job(store, name)
    with store.write() as session:
        session.execute(
            update(TuningJobRow)
            .where(TuningJobRow.id == job.id, TuningJobRow.status == TuningJobStatus.IN_PROGRESS)
            .values(status=TuningJobStatus.STOPPING)
        )
    return get_tuning_job(store, name)


@retried
def delete_tuning_job(store: Store, job_id: int) -> None:
    """Delete a tuning job with its training jobs and metric values."""
    with store.write() as session:
        session.execute(delete(TuningJobRow).where(TuningJobRow.id == job_id))


def count_training_jobs(store: Store, tuning_job_id: int, retries: bool = False) -> int:
    """How many training jobs a tuning job has created, retries counted only if ``retries`` (they count
    toward no budget)."""
    query = select(func.count()).where(TrainingJobRow.tuning_job_id == tuning_job_id)
    if not retries:
        query = query.where(TrainingJobRow.retry_of.is_(None))
    with store.read() as session:
        return session.scalar(query) or 0


@dataclass(frozen=True)
class NewTrainingJob:
    """A training job to add: its number and name in the tuning job, where it writes, what it retries."""

    number: int
    name: str
    hyperparameters: dict[str, Any]
    log_path: str
    output_dir: str
    retry_of: int | None = None  # the id of the training job it retries


@retried
def add_training_jobs(
    store: Store, tuning_job_id: int, jobs: Sequence[NewTrainingJob], owner: str | None = None
) -> list[TrainingJob]:
    """Store new training jobs in status Pending, in one transaction, and return them in ``jobs``' order.

    ``owner`` is the process that runs them (None: they wait for a worker to claim them).
    """
    if not jobs:
        return []
    now = utcnow()
    pending = {**_DEFAULTS, "tuning_job_id": tuning_job_id, "status": TrainingJobStatus.PENDING, "created_at": now}
    rows = [{**pending, **vars(job)} for job in jobs]
    if owner is None and store.backend == "postgresql":  # one round trip, with the notice workers wait for
        from psycopg.types.json import Json

        numbered = {f"{column}_{i}": value for i, row in enumerate(rows) for column, value in row.items()}
        numbered.update({f"hyperparameters_{i}": Json(job.hyperparameters) for i, job in enumerate(jobs)})
        with store.autocommit() as session:
            added = run_on_driver(session, _adding_for_workers(tuple(rows[0]), len(rows)), numbered).fetchall()
        by_number = {record.number: record for record in (TrainingJob.of_columns(row[:-1]) for row in added)}
        return [by_number[job.number] for job in jobs]
    with store.write() as session:
        objects = [TrainingJobRow(**row, owner=owner) for row in rows]
        session.add_all(objects)
        session.flush()
        return [TrainingJob.of(row) for row in objects]


# The columns' defaults set in Python, given explicitly to a statement that runs on the driver.
_DEFAULTS = {c.name: c.default.arg for c in TrainingJobRow.__table__.columns if c.default and c.default.is_scalar}


@functools.lru_cache(maxsize=64)
def _adding_for_workers(columns: tuple[str, ...], count: int) -> Compiled:
    """PostgreSQL's INSERT of ``count`` training jobs that wait for a worker, setting ``columns``, returning
    them, with a notice to the workers that listen (sent once, when it commits: PostgreSQL folds a
    transaction's identical notices). Compiled once per count: SQLAlchemy cannot cache an INSERT of several
    rows, and compiling it costs more CPU than running it."""
    table = Base.metadata.tables["training_jobs"]
    rows = [{name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in columns} for i in range(count)]
    added = insert(table).values(rows).returning(*TrainingJob.columns()).cte("added")
    return for_psycopg(select(*added.c, func.pg_notify(WORK_CHANNEL, "")))


@retried
def update_training_job(store: Store, training_job_id: int, **fields: Any) -> None:
    """Set columns of a training job."""
    with store.write() as session:
        session.execute(update(TrainingJobRow).where(TrainingJobRow.id == training_job_id).values(**fields))


@retried
def list_training_jobs(store: Store, tuning_job_id: int) -> list[TrainingJob]:
    """A tuning job's training jobs in creation order."""
    return page_training_jobs(store, tuning_job_id, "number")


def page_training_jobs(
    store: Store, tuning_job_id: int, order: str, maximize: bool = False, limit: int | None = None, offset: int = 0
) -> list[TrainingJob]:
    """A page of a tuning job's training jobs, sorted by the database.

    ``order`` is ``objective`` (best first, jobs without an objective last), ``time`` (started first,
    never started last) or ``number``; ties go by number.
    """
    row = TrainingJobRow
    keys: list[Any]
    if order == "objective":
        keys = [row.final_objective.is_(None), row.final_objective.desc() if maximize else row.final_objective]
    elif order == "time":
        keys = [row.started_at.is_(None), func.coalesce(row.started_at, row.created_at)]
    else:
        keys = []
    query = select(*TrainingJob.columns()).where(row.tuning_job_id == tuning_job_id)
    query = query.order_by(*keys, row.number).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    with store.read() as session:
        return [TrainingJob.of_columns(r) for r in session.execute(query)]


def get_training_job_by_id(store: Store, training_job_id: int) -> TrainingJob:
    """The training job with this id (NotFoundError once it was deleted)."""
    with store.read() as session:
        row = session.get(TrainingJobRow, training_job_id)
        if row is None:
            raise NotFoundError(f"training job {training_job_id} is no longer in the store")
        return TrainingJob.of(row)


def get_training_job(store: Store, tuning_job: TuningJob, name: str) -> TrainingJob:
    """A training job of ``tuning_job`` by its full name or its number."""
    row = TrainingJobRow
    wanted = row.name == name
    if name.isdigit():
        wanted = wanted | (row.number == int(name))
    with store.read() as session:
        found = session.execute(
            select(*TrainingJob.columns()).where(row.tuning_job_id == tuning_job.id, wanted).order_by(row.number)
        ).first()
        if found is not None:
            return TrainingJob.of_columns(found)
        names = list(session.scalars(select(row.name).where(row.tuning_job_id == tuning_job.id)))
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; 'modeltune training-jobs {tuning_job.name}' lists them"
    raise NotFoundError(f"tuning job {tuning_job.name!r} has no training job {name!r}{hint}")


@retried
def add_metric_values(store: Store, values: Iterable[tuple[int, MetricValue]]) -> None:
    """Store (training job id, metric value) pairs in one transaction."""
    with store.write() as session:
        insert_metric_values(session, values)


@dataclass
class TrainingJobChanges:
    """What a runner learned about its training jobs, to be written in one transaction.

    Attributes:
        columns: columns to set, by training job id (a later change of a column replaces an earlier one).
        values: (training job id, metric value), in the order they were reported.
        logs: (training job id, byte offset, text) pieces of training-job logs shipped to the store.
    """

    columns: dict[int, dict[str, Any]] = field(default_factory=dict)
    values: list[tuple[int, MetricValue]] = field(default_factory=list)
    logs: list[tuple[int, int, str]] = field(default_factory=list)

    def set(self, training_job_id: int, **columns: Any) -> None:
        """Set columns of a training job (after those set before)."""
        self.columns.setdefault(training_job_id, {}).update(columns)

    def __bool__(self) -> bool:
        return bool(self.columns or self.values or self.logs)


# What a worker records about a training job after its end: where the model artifact went, or why not.
_ARTIFACT_COLUMNS = {"artifact_uri", "status_reason"}


@retried
def record_changes(store: Store, changes: TrainingJobChanges, owner: str | None = None) -> set[int]:
    """Write ``changes`` in one transaction: one statement per training job and one per kind of row.

    Values go in with the columns (a file cursor among them), so a restarted reader continues exactly
    where the stored values end. With an ``owner`` (a worker), columns are set only on training jobs it
    still holds that have not ended (once ended, only where its model artifact went, or why it could not
    be kept); returns the ids of the others, whose columns were left as they were.
    """
    with store.write_at_once() as session:  # PostgreSQL: one round trip
        not_held = write_changes(session, changes, owner)
    return not_held()


def write_changes(session: Session, changes: TrainingJobChanges, owner: str | None) -> Callable[[], set[int]]:
    """The statements of ``record_changes`` in a transaction of ``Store.write_at_once``; what it returns gives,
    once the transaction ended, the ids of the training jobs whose columns were left as they were. A worker's
    changes that end a training job come with a notice to the controllers (PostgreSQL; sent when they commit):
    an ending frees a slot for the next training job, the rest is seen at a controller's next look."""
    updates = {}
    connection = session.connection()  # Core statements: the ORM's per-statement work is not needed here
    for training_job_id, columns in changes.columns.items():
        if owner is None:
            statement, guard = _UPDATE_JOB, {}
        elif columns.keys() <= _ARTIFACT_COLUMNS:  # allowed after its end too
            statement, guard = _UPDATE_HELD_JOB, {"_owner": owner}
        else:
            statement, guard = _UPDATE_OWNED_JOB, {"_owner": owner}
        updates[training_job_id] = connection.execute(statement, {"_id": training_job_id, **guard, **columns})
    insert_metric_values(session, changes.values)
    if changes.logs:
        pieces = [{"training_job_id": t, "offset": offset, "data": piece} for t, offset, piece in changes.logs]
        connection.execute(_INSERT_LOG_CHUNKS, pieces)
    ended = any("ended_at" in columns for columns in changes.columns.values())
    if owner is not None and ended and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {NEWS_CHANNEL}")
    if owner is None:
        return set
    return lambda: {job_id for job_id, result in updates.items() if not result.context.cursor.rowcount}


# Built once, as they run for every training job (building and coercing a statement costs more CPU than
# sending it). The SET clause of an UPDATE without values() is made from the parameters it is given.
_JOBS = Base.metadata.tables["training_jobs"]
_UPDATE_JOB = update(_JOBS).where(_JOBS.c.id == bindparam("_id"))
# Only while ``_owner`` still holds the training job (and, for the second, while it has not ended).
_UPDATE_HELD_JOB = _UPDATE_JOB.where(_JOBS.c.owner == bindparam("_owner"))
_UPDATE_OWNED_JOB = _UPDATE_HELD_JOB.where(_JOBS.c.status.not_in([s.value for s in TERMINAL_TRAINING]))
# inline(): without RETURNING the new rows' ids, which nobody reads and pipelined statements cannot return.
_INSERT_METRIC_VALUES = insert(Base.metadata.tables["metric_values"]).inline()
_INSERT_LOG_CHUNKS = insert(Base.metadata.tables["log_chunks"]).inline()


def insert_metric_values(session: Session, values: Iterable[tuple[int, MetricValue]]) -> None:
    """Insert (training job id, metric value) pairs in one statement, without the ORM's bookkeeping (this
    runs for every training job)."""
    rows = [
        {"training_job_id": tid, "name": v.name, "value": v.value, "step": v.step, "timestamp": v.timestamp}
        for tid, v in values
    ]
    if rows:
        session.connection().execute(_INSERT_METRIC_VALUES, rows)


def metric_values(
    store: Store, training_job_ids: Sequence[int], name: str | None = None
) -> dict[int, list[MetricValue]]:
    """Every metric value (or every one of metric ``name``) of the given training jobs, by training job id,
    in emission order."""
    result: dict[int, list[MetricValue]] = {tid: [] for tid in training_job_ids}
    if not training_job_ids:
        return result
    query = select(MetricValueRow).where(MetricValueRow.training_job_id.in_(list(training_job_ids)))
    if name is not None:
        query = query.where(MetricValueRow.name == name)
    with store.read() as session:
        rows = session.scalars(query.order_by(MetricValueRow.id))
        for row in rows:
            result[row.training_job_id].append(MetricValue(row.name, row.value, row.step, row.timestamp))
    return result
