"""A worker's outbox: what its training jobs did during one loop iteration, written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modeltune.core import MetricValue
from modeltune.runners.recording import Recorder
from modeltune.store import Store, TrainingJob, work


class Outbox(Recorder):
    """Gathers starts, metric values, ends and log text, and writes them together at ``send``.

    With many short training jobs on a shared database this takes one transaction per loop
    iteration instead of one per change. Column updates apply only while the worker still owns
    the training job, so a worker taken for lost cannot overwrite what happened since.

    Args:
        store: the shared store.
        worker_id: the worker whose training jobs these are.
    """

    def __init__(self, store: Store, worker_id: str):
        super().__init__(store)
        self.worker_id = worker_id
        self._changes = work.WorkerChanges()
        self._names: dict[int, str] = {}

    def update(self, record: TrainingJob, **fields: Any) -> None:
        self._changes.set(record.id, **fields)
        self._names[record.id] = record.name

    def progress(self, record: TrainingJob, values: Sequence[MetricValue], cursor: dict[str, Any]) -> None:
        self._changes.values.extend((record.id, value) for value in values)
        self.update(record, cursor=cursor)

    def log(self, record: TrainingJob, offset: int, text: str) -> None:
        """Ship a piece of the training job's log, from byte ``offset``."""
        self._changes.logs.append((record.id, offset, text))

    def send(self) -> list[str]:
        """Write everything gathered since the last call; the names of the training jobs this worker no
        longer owns (their updates were not applied)."""
        if not self._changes:
            return []
        lost = work.record_worker_changes(self.store, self.worker_id, self._changes)
        names = self._names
        self._changes, self._names = work.WorkerChanges(), {}
        return [names[training_job_id] for training_job_id in lost]
