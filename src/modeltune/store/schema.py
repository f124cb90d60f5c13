"""SQLAlchemy tables of the store. Changes here need a migration in ``migrations/versions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The Alembic revision these tables match (the newest file in migrations/versions).
SCHEMA_REVISION = "0003"
# MySQL's DATETIME drops fractions of a second unless asked to keep them.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def name_column(length: int) -> String:
    """A name type that compares exactly ('MNIST' and 'mnist' differ) on MySQL too, whose collation folds case."""
    return String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


# MySQL's FLOAT is single precision; objective values need double.
Double = Float(precision=53)
# MySQL's TEXT and BLOB hold 64 KB; log text and packed code need more.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LongBinary = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


class Base(DeclarativeBase):
    pass


class TuningJobRow(Base):
    __tablename__ = "tuning_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(name_column(64), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp)
    controller_pid: Mapped[int | None] = mapped_column(Integer)
    controller_host: Mapped[str | None] = mapped_column(String(255))
    # The controller's lease: one controller per tuning job (see repository.take_lease).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Active time: seconds of earlier controller runs, and when the current run started.
    run_seconds: Mapped[float] = mapped_column(Double, default=0.0)
    run_started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    completion_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TrainingJobRow(Base):
    __tablename__ = "training_jobs"
    __table_args__ = (
        UniqueConstraint("tuning_job_id", "number"),
        Index("ix_training_jobs_tuning_job_status", "tuning_job_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tuning_job_id: Mapped[int] = mapped_column(ForeignKey("tuning_jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(name_column(96), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    final_objective: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    status_reason: Mapped[str | None] = mapped_column(Text)
    log_path: Mapped[str] = mapped_column(Text)
    output_dir: Mapped[str] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    # How far its log and metric files have been read (metric values up to there are stored).
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A requested stop survives a controller restart: why, and the status the job then ends with.
    stop_reason: Mapped[str | None] = mapped_column(Text)
    stop_status: Mapped[str | None] = mapped_column(String(16))
    # The training job this one retries (same hyperparameters), if any; and whether this one may be
    # retried (it failed for a reason that was not its code's fault).
    retry_of: Mapped[int | None] = mapped_column(Integer)
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    # The process that runs it when that is not the controller (a worker, an ask/tell process), and
    # until when it is taken to be alive (it renews this); past it the training job is lost.
    owner: Mapped[str | None] = mapped_column(String(64), index=True)
    owner_expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # What the user attached to it (ask/tell), and where its packed model is kept.
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    artifact_uri: Mapped[str | None] = mapped_column(Text)


class WorkerRow(Base):
    """A ``modeltune worker`` process: where it runs, how many training jobs at once, its last heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    slots: Mapped[int] = mapped_column(Integer)
    tuning_job: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    heartbeat_at: Mapped[datetime] = mapped_column(Timestamp)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)


class LogChunkRow(Base):
    """Log text of a training job that runs on another machine, shipped by its worker in order."""

    __tablename__ = "log_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"), index=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(LongText)


class CodePackageRow(Base):
    """A tuning job's ``source_dir``, packed when it starts, for workers on other machines."""

    __tablename__ = "code_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tuning_job_id: Mapped[int] = mapped_column(ForeignKey("tuning_jobs.id", ondelete="CASCADE"), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LongBinary)


class StoreInfoRow(Base):
    """Facts about the store itself, e.g. its unique id (which keys its training jobs' folders)."""

    __tablename__ = "store_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricValueRow(Base):
    __tablename__ = "metric_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Double)
    step: Mapped[float] = mapped_column(Double)
    timestamp: Mapped[datetime] = mapped_column(Timestamp)
