"""Frozen records of what the store holds, apart from the table rows they are read from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from modeltune.core import KEPT_MODELS, UPLOAD_FAILED, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.store.schema import TrainingJobRow, TuningJobRow


@dataclass(frozen=True)
class TuningJob:
    """A tuning job as stored."""

    id: int
    name: str
    spec: dict[str, Any]
    status: TuningJobStatus
    status_reason: str | None
    created_at: datetime
    ended_at: datetime | None
    heartbeat_at: datetime | None
    controller_pid: int | None
    controller_host: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    run_seconds: float
    run_started_at: datetime | None
    completion_details: dict[str, Any] | None

    @property
    def terminal(self) -> bool:
        """True once the job is Completed, Failed or Stopped."""
        return self.status.terminal

    @property
    def leased(self) -> bool:
        """True while a controller holds the job's lease (it renews it every few seconds while alive)."""
        return self.lease_owner is not None and self.lease_expires_at is not None and self.lease_expires_at > utcnow()

    @property
    def active_seconds(self) -> float:
        """Seconds controllers have run this job: earlier runs plus the current one (to its end or last sign
        of life), without the gaps between a stop or crash and a resume."""
        if self.run_started_at is None:
            return self.run_seconds
        until = self.ended_at or (utcnow() if self.leased else self.heartbeat_at) or self.run_started_at
        return self.run_seconds + max(timedelta(0), until - self.run_started_at).total_seconds()

    @classmethod
    def of(cls, row: TuningJobRow) -> TuningJob:
        """The record of a table row."""
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        return cls(**{**values, "status": TuningJobStatus(row.status), "run_seconds": row.run_seconds or 0.0})


@dataclass(frozen=True)
class TrainingJob:
    """A training job as stored."""

    id: int
    tuning_job_id: int
    number: int
    name: str
    status: TrainingJobStatus
    hyperparameters: dict[str, Any]
    final_objective: float | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    exit_code: int | None
    status_reason: str | None
    log_path: str
    output_dir: str
    pid: int | None
    host: str | None = None
    cursor: dict[str, Any] | None = None
    stop_reason: str | None = None
    stop_status: str | None = None
    retry_of: int | None = None
    retryable: bool = False
    owner: str | None = None
    owner_expires_at: datetime | None = None
    attributes: dict[str, Any] | None = None
    artifact_uri: str | None = None

    @property
    def model_unkept(self) -> bool:
        """Ended with a model to keep that is neither kept nor known to have failed: its runner is still
        keeping it, or stopped before it could (``MODEL_UNKEPT`` is the same rule in SQL)."""
        return (
            self.status in KEPT_MODELS
            and self.started_at is not None
            and self.artifact_uri is None
            and UPLOAD_FAILED not in (self.status_reason or "")
        )

    @property
    def elapsed_seconds(self) -> float | None:
        """Wall time from start to end (or None while it has not ended)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    @classmethod
    def of(cls, row: TrainingJobRow) -> TrainingJob:
        """The record of a table row."""
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        return cls(**{**values, "status": TrainingJobStatus(row.status)})

    @staticmethod
    def columns() -> list[InstrumentedAttribute[Any]]:
        """The table columns of a record, in field order: selected as plain columns, many records read
        twice as fast as through ORM objects."""
        return [getattr(TrainingJobRow, f.name) for f in fields(TrainingJob)]

    @classmethod
    def of_columns(cls, values: Sequence[Any]) -> TrainingJob:
        """The record of a result row of ``columns()``."""
        record = cls(*values)
        object.__setattr__(record, "status", TrainingJobStatus(record.status))
        return record


# ``TrainingJob.model_unkept`` as a condition on training-job rows.
MODEL_UNKEPT = and_(
    TrainingJobRow.status.in_([s.value for s in KEPT_MODELS]),
    TrainingJobRow.started_at.is_not(None),
    TrainingJobRow.artifact_uri.is_(None),
    or_(TrainingJobRow.status_reason.is_(None), TrainingJobRow.status_reason.not_like(f"%{UPLOAD_FAILED}%")),
)
