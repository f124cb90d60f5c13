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
from modeltune.store.notices import NEWS_CHANNEL, Listener

# How often lost workers are looked for (a worker is lost after work.WORK_LEASE_SECONDS without a heartbeat).
_LOST_CHECK_SECONDS = 1.0
# How often the store is looked at without notices of the workers' news (only PostgreSQL sends them), and
# with them (then also after a notice of an ending, but not more often than without; starts and metric
# values are seen at the looks on the timer).
_LOOK_SECONDS = 0.05
_LOOK_SECONDS_LISTENING = 0.25


class WorkerPoolRunner(Runner):
    """Leaves training jobs in the store for workers to claim, and follows what the workers record.

    New training jobs wait, Pending and without an owner, until a worker claims one; the
    worker records its start, values and outcome. A stop request recorded in the store
    reaches the worker at its next look (within a second). Training jobs whose worker stops
    renewing its hold are marked Failed ("worker lost", retryable). On PostgreSQL it looks at the store
    when a worker's notice says a training job ended (at most every 50 ms) and 4 times a second, elsewhere
    every 50 ms.

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
        self._news: Listener | None = None  # while training jobs are followed
        self._noticed = False  # a notice came while waiting, not yet looked at
        self._looked_at = float("-inf")

    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        self._follow(record, spec)
        return record

    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        for record in records:
            self._follow(record, spec)
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
            if self._look_due():
                events = self._look()
                if events.values or events.changed:
                    return events
            left = deadline - time.monotonic()
            if left <= 0:
                return RunnerEvents()
            self._wait(left)

    def active(self) -> list[str]:
        return [r.name for r in self.watched.values()]

    def _look(self) -> RunnerEvents:
        """New values and changed records of the watched training jobs, and lost ones marked Failed."""
        events = RunnerEvents()
        now = self._looked_at = time.monotonic()
        if not self.watched:
            return events
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
        if not self.watched and self._news is not None:  # until the next launch
            self._news.close()
            self._news = None
        return events

    def _follow(self, record: TrainingJob, spec: TuningJobSpec) -> None:
        self._store_code(record, spec)
        self.watched[record.id] = record
        if self._news is None:
            self._news = Listener(self.store, NEWS_CHANNEL, "what workers record")

    def _look_due(self) -> bool:
        """Whether to look at the store now: always without notices (the waits are short); with them, when
        one came (at most every 50 ms, so endings close together are read together) or the last look was
        a while ago."""
        if self._news is None or not self._news.listening:
            return True
        self._noticed = self._noticed or self._news.heard()
        since = time.monotonic() - self._looked_at
        if since >= _LOOK_SECONDS_LISTENING or (self._noticed and since >= _LOOK_SECONDS):
            self._noticed = False
            return True
        return False

    def _wait(self, seconds: float) -> None:
        """Until the next look is due (after a worker's notice, or on the timer) or ``seconds`` pass."""
        if self._news is not None:
            self._news.listen()  # again, if the connection was lost (e.g. the server restarted)
            if self._news.listening:
                next_look = self._looked_at + (_LOOK_SECONDS if self._noticed else _LOOK_SECONDS_LISTENING)
                left = max(0.0, min(seconds, next_look - time.monotonic()))
                if self._noticed:
                    time.sleep(left)
                else:
                    self._noticed = self._news.heard(left)
                return
        time.sleep(min(_LOOK_SECONDS, seconds))

    def _store_code(self, record: TrainingJob, spec: TuningJobSpec) -> None:
        """Pack the tuning job's source_dir into the store once, for workers on other machines."""
        if not self._code_stored:
            from modeltune.runners.code import store_code

            store_code(self.store, record.tuning_job_id, Path(spec.training.source_dir))
            self._code_stored = True
