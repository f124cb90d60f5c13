"""Training jobs run by ``modeltune worker`` processes: the controller's side follows them in the store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from modeltune.core import TrainingJobStatus, utcnow
from modeltune.runners.base import Runner, RunnerEvents
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, work
from modeltune.store import repository as repo

# How often lost workers are looked for (a worker is lost after work.WORK_LEASE_SECONDS without a heartbeat).
_LOST_CHECK_SECONDS = 1.0


class WorkerPoolRunner(Runner):
    """Leaves training jobs in the store for workers to claim, and follows what the workers record.

    New training jobs wait, Pending and without an owner, until a worker claims one; the
    worker records its start, values and outcome. A stop request recorded in the store
    reaches the worker at its next look (within a second). Training jobs whose worker stops
    renewing its hold are marked Failed ("worker lost", retryable).

    Args:
        store: where the tuning job and its training jobs are.
    """

    claimable = True

    def __init__(self, store: Store):
        self.store = store
        self.watched: dict[int, TrainingJob] = {}
        # Per watched training job, the id of its newest metric value already reported.
        self._seen_value: dict[int, int] = {}
        self._first_value = work.newest_metric_value_id(store)  # values before this were stored already
        self._last_lost_check = 0.0
        self._code_stored = False

    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        self._store_code(record, spec)
        self.watched[record.id] = record
        return record

    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        for record in records:
            self._store_code(record, spec)
            self.watched[record.id] = record
        return []

    def stop(self, record: TrainingJob, grace_seconds: float) -> None:
        self.watched[record.id] = record
        if record.owner is None and record.status == TrainingJobStatus.STOPPING and record.started_at is None:
            # Not claimed yet: no worker will run it now.
            repo.update_training_job(
                self.store,
                record.id,
                status=TrainingJobStatus.STOPPED,
                ended_at=utcnow(),
                status_reason="stopped before a worker started it",
            )

    def poll(self, timeout: float) -> RunnerEvents:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            events = self._look()
            if events.values or events.changed or time.monotonic() >= deadline:
                return events
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def active(self) -> list[str]:
        return [r.name for r in self.watched.values()]

    def _look(self) -> RunnerEvents:
        """New values and changed records of the watched training jobs, and lost ones marked Failed."""
        events = RunnerEvents()
        if not self.watched:
            return events
        now = time.monotonic()
        if now - self._last_lost_check >= _LOST_CHECK_SECONDS:
            self._last_lost_check = now
            work.expire_lost(self.store, next(iter(self.watched.values())).tuning_job_id)
        after = {i: self._seen_value.get(i, self._first_value) for i in self.watched}
        records, events.values, newest = work.followed_training_jobs(self.store, after)
        self._seen_value.update(newest)
        for record in records:
            before = self.watched[record.id]
            if (record.status, record.started_at, record.output_dir) != (
                before.status,
                before.started_at,
                before.output_dir,
            ):
                events.changed.append(record)
            if record.status.terminal:
                del self.watched[record.id]
                self._seen_value.pop(record.id, None)
            else:
                self.watched[record.id] = record
        return events

    def _store_code(self, record: TrainingJob, spec: TuningJobSpec) -> None:
        """Pack the tuning job's source_dir into the store once, for workers on other machines."""
        if not self._code_stored:
            from modeltune.runners.code import store_code

            store_code(self.store, record.tuning_job_id, Path(spec.training.source_dir))
            self._code_stored = True
