"""Where a runner writes what its training jobs do: straight to the store, one transaction per change.

A worker replaces this with its outbox (``modeltune.workers.outbox``), which gathers the changes
of one loop iteration into one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modeltune.core import MetricValue
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo


class Recorder:
    """Writes a runner's changes to the store as they happen.

    Args:
        store: where the training jobs are recorded.
    """

    def __init__(self, store: Store):
        self.store = store

    def update(self, record: TrainingJob, **fields: Any) -> None:
        """Set columns of a training job."""
        repo.update_training_job(self.store, record.id, **fields)

    def progress(self, record: TrainingJob, values: Sequence[MetricValue], cursor: dict[str, Any]) -> None:
        """Store new metric values with how far the training job's files have been read."""
        repo.record_progress(self.store, record.id, values, cursor)
