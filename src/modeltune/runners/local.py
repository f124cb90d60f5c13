"""Training jobs as processes of this machine, their metric values and outcomes recorded as they come."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from modeltune.artifacts import keep_model
from modeltune.core import KEPT_MODELS, UPLOAD_FAILED, MetricValue, TrainingJobStatus, utcnow
from modeltune.executors import Executor, ExecutorEvent, JobFiles, LocalExecutor
from modeltune.executors.contract import prepare_launch
from modeltune.resources import Allocation, Machine, ResourcePool
from modeltune.runners.base import Runner, RunnerEvents
from modeltune.runners.recording import Recorder
from modeltune.runners.running_job import RunningJob
from modeltune.runners.uploads import Kept, Uploads
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob

# What a training job launched with ``training.resources`` holds, in its folder (for a new controller).
ALLOCATION_FILE = "resources.json"


class LocalRunner(Runner):
    """Runs training jobs through an executor (local processes by default) and records what they report.

    When the spec has ``training.resources``, a training job starts only once its CPUs, GPUs and
    memory are free on this machine (it waits Pending until then), and it gets its own GPUs. The
    model folder of a training job that ends Completed or Stopped is packed and kept in its artifact
    location (``training.output_path``, by default the training job's own ``output/`` folder) on an
    upload thread: its status is recorded at once, its ``artifact_uri`` once the upload is done.

    Args:
        store: where the records are.
        executor: how the processes run (``LocalExecutor`` by default).
        recorder: how the changes are written (a worker's keeps them for its own loop).
        machine: what the training jobs may use together (this machine, by default).
    """

    def __init__(
        self,
        store: Store,
        executor: Executor | None = None,
        recorder: Recorder | None = None,
        machine: Machine | None = None,
    ):
        self.store = store
        self.executor = executor or LocalExecutor()
        self.recorder = recorder or Recorder(store)
        self.monitors: dict[str, RunningJob] = {}
        self._machine = machine
        self._pool: ResourcePool | None = None
        self.waiting: dict[str, RunningJob] = {}  # launched, waiting for resources, in launch order
        self.uploads = Uploads()
        self.uploading: dict[str, RunningJob] = {}  # ended, their model artifact being kept
        self._changed: list[TrainingJob] = []  # changes to report at the next poll

    @property
    def pool(self) -> ResourcePool:
        """This machine's resources and who holds them (machine detected at first use)."""
        if self._pool is None:
            self._pool = ResourcePool(self._machine or Machine.detect())
        return self._pool

    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        monitor = RunningJob(record, spec)
        wanted = spec.training.resources
        if wanted is None:
            return self._start(monitor, None)
        reason = self.pool.machine.why_not(wanted)
        if reason is not None:
            self.monitors[record.name] = monitor
            return self._finish(monitor, ExecutorEvent(record.name, error=f"could not start: {reason}"))
        allocation = self.pool.reserve(record.name, wanted) if not self.waiting else None
        if allocation is None:
            self.waiting[record.name] = monitor
            return record
        return self._start(monitor, allocation)

    def _start(self, monitor: RunningJob, allocation: Allocation | None) -> TrainingJob:
        record = monitor.record
        folder = Path(record.output_dir)
        request = prepare_launch(monitor.spec, record.name, record.hyperparameters, folder, record.number, allocation)
        if allocation is not None:
            (folder / ALLOCATION_FILE).write_text(json.dumps(allocation.as_json()))
        self.monitors[record.name] = monitor
        pid = self.executor.launch(request)
        return self._update(
            monitor, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow(), pid=pid, host=socket.gethostname()
        )

    def _start_waiting(self) -> list[TrainingJob]:
        """Start the waiting training jobs whose resources are free now, oldest first."""
        started = []
        for name, monitor in list(self.waiting.items()):
            wanted = monitor.spec.training.resources
            allocation = self.pool.reserve(name, wanted) if wanted is not None else None
            if allocation is None:
                break  # first come, first served: a big request is not overtaken forever by small ones
            del self.waiting[name]
            started.append(self._start(monitor, allocation))
        return started

    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        never_started = []
        for record in records:
            monitor = RunningJob(record, spec)
            files = JobFiles(record.name, Path(record.log_path), Path(record.output_dir))
            if self.executor.attach(files, monitor.log_offset):
                self.monitors[record.name] = monitor
                self._hold(record)
                if record.started_at is None:
                    self._update(monitor, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow())
            elif record.status == TrainingJobStatus.PENDING:
                never_started.append(record)
            else:  # it started, but its folder no longer shows it
                self.monitors[record.name] = monitor
                self._finish(monitor, ExecutorEvent(record.name, error="lost: its folder no longer shows that it ran"))
        return never_started

    def _hold(self, record: TrainingJob) -> None:
        """Count what a re-attached training job holds, from the file its launch left."""
        try:
            data = json.loads((Path(record.output_dir) / ALLOCATION_FILE).read_text())
        except (OSError, ValueError):
            return
        self.pool.hold(record.name, Allocation.from_json(data))

    def stop(self, record: TrainingJob, grace_seconds: float) -> None:
        waiting = self.waiting.pop(record.name, None)
        if waiting is not None:
            waiting.record = record
            self._changed.append(
                self._update(
                    waiting,
                    status=TrainingJobStatus.STOPPED,
                    ended_at=utcnow(),
                    status_reason="stopped before it started",
                )
            )
            return
        monitor = self.monitors.get(record.name)
        if monitor is None:
            return
        if record.stop_reason:
            monitor.request_stop(record.stop_reason, TrainingJobStatus(record.stop_status or TrainingJobStatus.STOPPED))
        self.executor.stop(record.name, grace_seconds)

    def poll(self, timeout: float) -> RunnerEvents:
        events = self.executor.poll(0 if self._changed else timeout)
        found = RunnerEvents(changed=self._changed)
        self._changed = []
        lines: dict[str, list[MetricValue]] = {}
        exits = []
        for event in events:
            monitor = self.monitors.get(event.name)
            if monitor is None:
                continue
            if event.is_exit:
                exits.append(event)
            else:
                lines.setdefault(event.name, []).extend(monitor.feed_line(event.line or "", event.offset))
        with self.recorder.gathered():  # what happened since the last poll, in one transaction
            for name, monitor in self.monitors.items():
                values = lines.get(name, []) + monitor.read_files()
                if values:  # lines without values need not be recorded: reading them again finds nothing
                    self.recorder.progress(monitor.record, values, monitor.cursor)
                    found.values[monitor.record.id] = values
            for event in exits:
                found.changed.append(self._finish(self.monitors[event.name], event))
            if exits:
                found.changed.extend(self._start_waiting())
            found.changed.extend(self.uploaded())
        if exits:  # a worker's recorder sends later, once per loop
            self.recorder.after_sent(self.executor.ends_recorded)
        return found

    def uploaded(self) -> list[TrainingJob]:
        """Record the model artifacts whose upload ended since the last call; those training jobs as now stored."""
        return [self._kept(kept) for kept in self.uploads.finished()]

    def active(self) -> list[str]:
        return [*self.monitors, *self.waiting]

    def keeping(self) -> list[str]:
        return self.uploads.pending()

    def keep_again(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> None:
        for record in records:
            if record.model_unkept:
                self._start_keeping(RunningJob(record, spec))

    def _start_keeping(self, monitor: RunningJob) -> None:
        self.uploading[monitor.name] = monitor
        self.uploads.start(monitor.name, lambda: self._keep(monitor))

    def abandon(self, why: str) -> RunnerEvents:
        return RunnerEvents(changed=[self._kept(Kept(name, None, why)) for name in self.uploads.abandon()])

    def _finish(self, monitor: RunningJob, event: ExecutorEvent) -> TrainingJob:
        """Record how a training job ended and forget it."""
        del self.monitors[monitor.name]
        if self._pool is not None:
            self._pool.release(monitor.name)
        outcome = monitor.outcome(event.exit_code, event.error)
        if outcome.status in KEPT_MODELS:
            self._start_keeping(monitor)
        return self._update(
            monitor,
            status=outcome.status,
            final_objective=outcome.final_objective,
            status_reason=outcome.reason,
            exit_code=event.exit_code,
            ended_at=event.ended_at or utcnow(),
            retryable=outcome.retryable,
        )

    def _keep(self, monitor: RunningJob) -> str:
        """Pack the training job's model folder and put it in its artifact location (on an upload thread)."""
        return keep_model(Path(monitor.record.output_dir), artifact_location(monitor), monitor.name)

    def _kept(self, kept: Kept) -> TrainingJob:
        """Record where the model artifact of an ended training job is, or why it is not there."""
        monitor = self.uploading.pop(kept.name)
        if kept.uri is not None:
            return self._update(monitor, artifact_uri=kept.uri)
        folder = Path(monitor.record.output_dir) / "model"
        failed = f"{UPLOAD_FAILED}: {kept.error}; kept in {folder}"
        return self._update(monitor, status_reason="; ".join(filter(None, [monitor.record.status_reason, failed])))

    def _update(self, monitor: RunningJob, **fields: Any) -> TrainingJob:
        """Write ``fields`` of the training job; its record as now."""
        self.recorder.update(monitor.record, **fields)
        monitor.record = replace(monitor.record, **fields)
        return monitor.record


def artifact_location(monitor: RunningJob) -> str:
    """Where the training job's model.tar.gz goes: ``training.output_path``, else the tuning job's folder
    (so the archive is the one packed in the training job's own ``output/`` folder)."""
    return monitor.spec.training.output_path or str(Path(monitor.record.output_dir).parent)
