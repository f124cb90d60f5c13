"""Where a runner writes what its training jobs do: one transaction for what happened together."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from modeltune.core import MetricValue
from modeltune.store import Store, TrainingJob, work
from modeltune.store import repository as repo


class Recorder:
    """Writes starts, metric values, log text and ends of training jobs to the store.

    A change goes to the store at once, except inside ``gathered()``: then the changes go
    together, in one transaction, when the block ends (training jobs that end in the same
    moment cost one transaction, not two each). A worker's recorder gathers until the worker
    calls ``send`` once per loop iteration.

    Args:
        store: where the training jobs are recorded.
        owner: a worker's id: its column updates then apply only while it still owns the training
            job, so a worker taken for lost cannot overwrite what happened since.
        gathering: keep every change until ``send`` (a worker, which sends once per look).
    """

    def __init__(self, store: Store, owner: str | None = None, gathering: bool = False):
        self.store = store
        self.owner = owner
        self._gathering = gathering
        self._changes = repo.TrainingJobChanges()
        self._names: dict[int, str] = {}
        self._after_sent: list[Callable[[], None]] = []

    def update(self, record: TrainingJob, **fields: Any) -> None:
        """Set columns of a training job."""
        self._changes.set(record.id, **fields)
        self._names[record.id] = record.name
        self._send_unless_gathering()

    def progress(self, record: TrainingJob, values: Sequence[MetricValue], cursor: dict[str, Any]) -> None:
        """New metric values with how far the training job's files have been read."""
        self._changes.values.extend((record.id, value) for value in values)
        self.update(record, cursor=cursor)

    def log(self, record: TrainingJob, offset: int, text: str) -> None:
        """A piece of the training job's log, from byte ``offset`` (for readers on other machines)."""
        self._changes.logs.append((record.id, offset, text))
        self._send_unless_gathering()

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """Changes made in the block go to the store together when it ends."""
        outer, self._gathering = self._gathering, True
        yield
        self._gathering = outer
        self._send_unless_gathering()

    def after_sent(self, action: Callable[[], None]) -> None:
        """Run ``action`` once what is kept now is in the store: at once if nothing is kept."""
        if self._changes:
            self._after_sent.append(action)
        else:
            action()

    @property
    def pending(self) -> bool:
        """Whether changes wait for ``send``."""
        return bool(self._changes)

    def send(self) -> list[str]:
        """Write everything kept; the names of the training jobs the owner no longer holds (their column
        updates were not applied)."""
        if not self._changes:
            return []
        return self._sent(repo.record_changes(self.store, self._changes, self.owner))

    def exchange(
        self, claim: int, tuning_job: str | None, beat: bool = False, look_for_stops: bool = False
    ) -> tuple[list[str], list[TrainingJob], list[TrainingJob]]:
        """``send()`` in the owner's (a worker's) one look at the store (``work.exchange``): it also claims up to
        ``claim`` waiting training jobs (of ``tuning_job``, if given), and when asked renews the owner's
        heartbeat and looks for its training jobs to stop. The names ``send()`` gives, the training jobs
        claimed, and those to stop."""
        if self.owner is None:
            raise TypeError("only a worker's recorder (one with an owner) claims training jobs")
        answer = work.exchange(self.store, self.owner, self._changes, claim, tuning_job, beat, look_for_stops)
        return self._sent(answer.not_held), answer.claimed, answer.stopping

    def _sent(self, not_held: set[int]) -> list[str]:
        names, actions = self._names, self._after_sent
        self._changes, self._names, self._after_sent = repo.TrainingJobChanges(), {}, []
        for action in actions:
            action()
        return [names[training_job_id] for training_job_id in not_held]

    def _send_unless_gathering(self) -> None:
        if not self._gathering:
            self.send()
