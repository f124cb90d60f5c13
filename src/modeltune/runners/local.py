"""Training jobs as processes of this machine, their metric values and outcomes recorded as they come."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from modeltune.core import MetricValue, TrainingJobStatus, utcnow
from modeltune.executors import Executor, ExecutorEvent, JobFiles, LocalExecutor
from modeltune.executors.contract import prepare_launch
from modeltune.runners.base import Runner, RunnerEvents
from modeltune.runners.running_job import RunningJob
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo


class LocalRunner(Runner):
    """Runs training jobs through an executor (local processes by default) and records what they report.

    Args:
        store: where the records are.
        executor: how the processes run (``LocalExecutor`` by default).
        owner: a worker's id: its writes then apply only while it still owns the training job, so a
            worker taken for lost cannot overwrite what happened since.
    """

    def __init__(self, store: Store, executor: Executor | None = None, owner: str | None = None):
        self.store = store
        self.executor = executor or LocalExecutor()
        self.owner = owner
        self.monitors: dict[str, RunningJob] = {}

    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        request = prepare_launch(spec, record.name, record.hyperparameters, Path(record.output_dir), record.number)
        monitor = RunningJob(record, spec)
        self.monitors[record.name] = monitor
        pid = self.executor.launch(request)
        return self._update(
            monitor, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow(), pid=pid, host=socket.gethostname()
        )

    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        never_started = []
        for record in records:
            monitor = RunningJob(record, spec)
            files = JobFiles(record.name, Path(record.log_path), Path(record.output_dir))
            if self.executor.attach(files, monitor.log_offset):
                self.monitors[record.name] = monitor
                if record.started_at is None:
                    self._update(monitor, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow())
            elif record.status == TrainingJobStatus.PENDING:
                never_started.append(record)
            else:  # it started, but its folder no longer shows it
                self.monitors[record.name] = monitor
                self._finish(monitor, ExecutorEvent(record.name, error="lost: its folder no longer shows that it ran"))
        return never_started

    def stop(self, record: TrainingJob, grace_seconds: float) -> None:
        monitor = self.monitors.get(record.name)
        if monitor is None:
            return
        if record.stop_reason:
            monitor.request_stop(record.stop_reason, TrainingJobStatus(record.stop_status or TrainingJobStatus.STOPPED))
        self.executor.stop(record.name, grace_seconds)

    def poll(self, timeout: float) -> RunnerEvents:
        events = self.executor.poll(timeout)
        found = RunnerEvents()
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
        for name, monitor in self.monitors.items():
            values = lines.get(name, []) + monitor.read_files()
            if values:  # lines without values need not be recorded: reading them again finds nothing
                repo.record_progress(self.store, monitor.record.id, values, monitor.cursor)
                found.values[monitor.record.id] = values
        for event in exits:
            found.changed.append(self._finish(self.monitors[event.name], event))
        return found

    def active(self) -> list[str]:
        return list(self.monitors)

    def _finish(self, monitor: RunningJob, event: ExecutorEvent) -> TrainingJob:
        """Record how a training job ended and forget it."""
        del self.monitors[monitor.name]
        outcome = monitor.outcome(event.exit_code, event.error)
        return self._update(
            monitor,
            status=outcome.status,
            final_objective=outcome.final_objective,
            status_reason=outcome.reason,
            exit_code=event.exit_code,
            ended_at=event.ended_at or utcnow(),
            retryable=outcome.retryable,
        )

    def _update(self, monitor: RunningJob, **fields: Any) -> TrainingJob:
        """Write ``fields`` of the training job (when this runner's owner still holds it); its record as now."""
        if self.owner is None:
            repo.update_training_job(self.store, monitor.record.id, **fields)
        elif not repo.update_owned_training_job(self.store, monitor.record.id, self.owner, **fields):
            self.executor.stop(monitor.name, 0)  # given up as lost: another runs it now
        monitor.record = replace(monitor.record, **fields)
        return monitor.record
