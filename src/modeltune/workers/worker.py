"""A worker: claims training jobs from the store, runs them on this machine, records what they report.

Any number of workers on any machines that reach the store can serve the tuning jobs whose
``executor`` is ``workers``. Each runs its training jobs exactly as a controller runs local ones
(the same supervisor, training-job contract and metric parsing), ships their log text to the
store for ``modeltune logs`` on other machines, acts on stop requests it finds in the store, and
renews its hold on its training jobs with a heartbeat; if it dies, the controller marks them
Failed ("worker lost") and retries them where the spec allows.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modeltune.core import TrainingJobStatus, utcnow
from modeltune.executors import LocalExecutor
from modeltune.executors.contract import LOG_FILE
from modeltune.runners import LocalRunner
from modeltune.runners.code import fetch_code
from modeltune.runners.recording import Recorder
from modeltune.runners.uploads import UPLOAD_WAIT_SECONDS
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, work
from modeltune.store import repository as repo
from modeltune.store.notices import WorkNotices

log = logging.getLogger(__name__)
# Log text is shipped in pieces of at most this many bytes.
_LOG_PIECE = 32 * 1024
# A stop or early-stopping decision recorded in the store reaches the running training job within this.
_STOP_CHECK_SECONDS = 0.5


@dataclass
class _Shipping:
    """How much of a training job's log has been shipped to the store."""

    record: TrainingJob
    offset: int = 0


class Worker:
    """Claims and runs training jobs until stopped (or idle for ``max_idle`` seconds).

    Args:
        store: the shared store.
        slots: training jobs it runs at once.
        tuning_job: serve only this tuning job (default: every tuning job run by workers).
        max_idle: exit after this many seconds without a training job to run (default: never).
        poll_seconds: longest wait per loop iteration.
    """

    def __init__(
        self,
        store: Store,
        slots: int = 1,
        tuning_job: str | None = None,
        max_idle: float | None = None,
        poll_seconds: float = 0.25,
    ):
        self.store = store
        self.slots = slots
        self.tuning_job = tuning_job
        self.max_idle = max_idle
        self.poll_seconds = poll_seconds
        self.id = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.outbox = Recorder(store, owner=self.id, gathering=True)  # sent once per loop iteration
        self.runner = LocalRunner(store, LocalExecutor(die_with_parent=True), recorder=self.outbox)
        self.specs: dict[int, TuningJobSpec] = {}
        self.folders: dict[int, str] = {}  # tuning job id -> name, the folder of its training jobs here
        self.shipping: dict[str, _Shipping] = {}
        self.stopping = False
        self._stopped: set[int] = set()
        self._notices = WorkNotices(store)

    def request_stop(self) -> None:
        """Stop claiming; give the running training jobs back (they are retried elsewhere) and exit."""
        self.stopping = True

    def run(self) -> None:
        """Serve until stopped or idle."""
        work.register_worker(self.store, self.id, socket.gethostname(), os.getpid(), self.slots, self.tuning_job)
        log.info("worker %s serves %s with %d slots", self.id, self.tuning_job or "every tuning job", self.slots)
        idle_since = time.monotonic()
        last_beat = last_stop_check = last_lost_check = 0.0
        try:
            while not self.stopping:
                now = time.monotonic()
                beat = now - last_beat >= work.HEARTBEAT_SECONDS
                look_for_stops = bool(self.runner.active()) and now - last_stop_check >= _STOP_CHECK_SECONDS
                last_beat = now if beat else last_beat
                last_stop_check = now if look_for_stops else last_stop_check
                if now - last_lost_check >= work.WORK_LEASE_SECONDS:
                    # Also where no controller looks: a worker lost while keeping a model after its tuning job ended.
                    work.expire_lost(self.store)
                    last_lost_check = now
                # With a free slot or news to send, look again soon; otherwise wait for the running jobs' news.
                soon = len(self.runner.active()) < self.slots or self.outbox.pending
                self.runner.poll(min(self.poll_seconds, 0.05) if soon else self.poll_seconds)
                self._ship_logs()
                self._exchange(beat, look_for_stops)
                if self.runner.active() or self.runner.keeping():
                    idle_since = time.monotonic()
                elif self.max_idle is not None and time.monotonic() - idle_since > self.max_idle:
                    log.info("worker %s exits after %g s without work", self.id, self.max_idle)
                    break
        finally:
            self._give_back()
            self._settle_uploads()
            work.end_worker(self.store, self.id)
            self._notices.close()

    def _exchange(self, beat: bool, look_for_stops: bool) -> None:
        """Write what the training jobs did since the last call, claim training jobs for the free slots, and
        (when due) renew the heartbeat and look for stop requests, in one round trip on PostgreSQL; then start
        those claimed, stop those whose stop was recorded, and stop those this worker no longer owns (taken
        for lost, another worker runs them now)."""
        free = self.slots - len(self.runner.active())
        count = free if free and self._notices.due() else 0
        not_held, claimed, stopping = self.outbox.exchange(count, self.tuning_job, beat, look_for_stops)
        for name in not_held:
            self.runner.executor.stop(name, 0)
        self._act_on_stop_requests(stopping)
        if count:
            self._notices.looked(found=bool(claimed))
        for record in claimed:
            self._start(record)

    def _start(self, record: TrainingJob) -> None:
        """Run a claimed training job here (its start is sent with the next changes)."""
        try:
            spec = self._spec(record)
            folder = self.store.jobs_folder() / self.folders[record.tuning_job_id] / record.name
            record = replace(record, output_dir=str(folder), log_path=str(folder / LOG_FILE))
            self._own(record, output_dir=record.output_dir, log_path=record.log_path)
            started = self.runner.launch(record, spec)
            self.shipping[record.name] = _Shipping(started)
        except Exception as exc:  # noqa: BLE001 - whatever stops it from starting is its failure reason
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._own(record, status=TrainingJobStatus.FAILED, ended_at=utcnow(), status_reason=reason)

    def _spec(self, record: TrainingJob) -> TuningJobSpec:
        """The tuning job's spec as this machine runs it: its code unpacked here, its channels checked."""
        if record.tuning_job_id not in self.specs:
            tuning_job = repo.get_tuning_job_by_id(self.store, record.tuning_job_id)
            self.folders[record.tuning_job_id] = tuning_job.name
            spec = TuningJobSpec.model_validate(tuning_job.spec)
            code = fetch_code(self.store, record.tuning_job_id, self.store.home / "code")
            if code is not None:
                training = spec.training.model_copy(update={"source_dir": str(code)})
                spec = spec.model_copy(update={"training": training})
            self.specs[record.tuning_job_id] = spec
        spec = self.specs[record.tuning_job_id]
        for name, path in spec.training.channels.items():
            if not Path(path).exists():
                raise FileNotFoundError(
                    f"channel {name!r} is {path}, which does not exist on worker host {socket.gethostname()}; "
                    "put the data at the same path on every worker machine (or a shared folder)"
                )
        return spec

    def _own(self, record: TrainingJob, **fields: Any) -> None:
        self.outbox.update(record, **fields)

    def _send(self) -> None:
        """Write what the training jobs did since the last call; stop those this worker no longer owns
        (taken for lost, another worker runs them now)."""
        for name in self.outbox.send():
            self.runner.executor.stop(name, 0)

    def _act_on_stop_requests(self, stopping: list[TrainingJob]) -> None:
        """Stop the training jobs whose stop the controller recorded (status Stopping)."""
        for record in stopping:
            if record.id not in self._stopped:
                self._stopped.add(record.id)
                spec = self.specs.get(record.tuning_job_id)
                self.runner.stop(record, spec.training.stop_grace_seconds if spec else 0)

    def _ship_logs(self) -> None:
        """Send the log text written since the last call to the store, in pieces."""
        for name, shipping in list(self.shipping.items()):
            try:
                with open(shipping.record.log_path, "rb") as handle:
                    handle.seek(shipping.offset)
                    chunk = handle.read(_LOG_PIECE * 8)
            except OSError:
                chunk = b""
            for start in range(0, len(chunk), _LOG_PIECE):
                piece = chunk[start : start + _LOG_PIECE]
                self.outbox.log(shipping.record, shipping.offset, piece.decode("utf-8", "replace"))
                shipping.offset += len(piece)
            if not chunk and name not in self.runner.active():
                del self.shipping[name]

    def _give_back(self) -> None:
        """Kill what still runs and mark it Failed (retryable): the worker stopped, not the code."""
        active = [s.record for name, s in self.shipping.items() if name in self.runner.active()]
        self.runner.executor.close(grace_seconds=0)
        for record in active:
            self._own(
                record,
                status=TrainingJobStatus.FAILED,
                ended_at=utcnow(),
                retryable=True,
                status_reason=f"worker stopped: {self.id} was stopped while this training job ran",
            )
        self._ship_logs()
        self.outbox.send()

    def _settle_uploads(self) -> None:
        """Wait for the model artifacts still being uploaded (bounded), then record the rest as failed."""
        deadline = time.monotonic() + UPLOAD_WAIT_SECONDS
        while self.runner.keeping() and time.monotonic() < deadline:
            work.heartbeat(self.store, self.id)
            time.sleep(self.poll_seconds)
            self.runner.uploaded()
            self._send()
        self.runner.abandon(f"not done {UPLOAD_WAIT_SECONDS:g} s after worker {self.id} stopped")
        self._send()


def install_stop_handlers(worker: Worker) -> None:
    """SIGTERM and Ctrl-C stop the worker gracefully."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.request_stop())
