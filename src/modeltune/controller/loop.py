"""The tuning loop: ask the strategy, launch training jobs, follow their metrics, finish.

A controller holds the tuning job's lease while it runs (one controller per tuning job).
It keeps a mirror of the job's training jobs, loaded from the store when it starts and
updated as it writes, so each step costs the same however many training jobs there are;
nothing in it cannot be rebuilt from the store. When it starts, it re-attaches to the
training jobs a previous controller left running (they run on without one) and takes the
outcome of those that ended meanwhile from their files.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from modeltune.analytics.progress import Progress
from modeltune.controller.completion import Completion, check_completion
from modeltune.controller.running_job import RunningJob
from modeltune.controller.warm_start import parent_observations
from modeltune.core import MetricValue, Observation, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.errors import ConflictError, ModeltuneError
from modeltune.executors import Executor, ExecutorEvent, JobFiles, LocalExecutor
from modeltune.executors.contract import LOG_FILE, prepare_launch
from modeltune.spec import TuningJobSpec
from modeltune.stopping import StoppingRule
from modeltune.store import Store, TrainingJob, TuningJob, leases
from modeltune.store import repository as repo
from modeltune.strategies import Strategy, make_strategy, stopping_rule_for

log = logging.getLogger(__name__)


class LeaseLost(ConflictError):
    """Another controller took over this tuning job (this one was frozen longer than its lease)."""

    def __init__(self, name: str):
        super().__init__(
            f"tuning job {name!r} was taken over by another controller after this one stopped renewing its lease; "
            "this controller exits and leaves the training jobs to it"
        )


class Controller:
    """Runs one tuning job to its end.

    Args:
        store: the store holding the tuning job.
        name: the tuning job's name (created beforehand with status InProgress).
        executor: where training jobs run; local processes by default.
        on_progress: called with a ``Progress`` whenever the counts or the best value change.
        poll_seconds: longest wait for executor events per loop iteration.
    """

    def __init__(
        self,
        store: Store,
        name: str,
        executor: Executor | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        poll_seconds: float = 0.25,
    ):
        self.store = store
        self.job = repo.get_tuning_job(store, name)
        self.spec = TuningJobSpec.model_validate(self.job.spec)
        self.executor = executor or LocalExecutor()
        self.on_progress = on_progress
        self.poll_seconds = poll_seconds
        self.owner = uuid.uuid4().hex
        self.strategy: Strategy = make_strategy(
            self.spec.strategy,
            self.spec.space,
            self.spec.objective.type,
            int(self.spec.random_seed or 0),
            **self.spec.strategy_options(),
        )
        stopping = self.spec.early_stopping
        self.stopping_rule: StoppingRule | None = stopping_rule_for(
            self.strategy, stopping.type, stopping.min_steps, stopping.min_peers
        )
        self.parents: list[Observation] = parent_observations(store, self.spec)
        self.records: dict[int, TrainingJob] = {}
        self.curves: dict[int, list[tuple[float, float]]] = {}
        self.running: dict[str, RunningJob] = {}
        self.stop_requested_locally = False
        self._completion: Completion | None = None
        self._exhausted = False
        self._last_heartbeat = 0.0
        self._started = time.monotonic()
        self._last_progress: Progress | None = None

    def request_stop(self) -> None:
        """Ask for a graceful stop from this process (e.g. on Ctrl-C)."""
        self.stop_requested_locally = True

    def run(self) -> TuningJob:
        """Run until the budget is spent, a completion criterion is met, or a stop is requested.

        Raises:
            ConflictError: another controller holds the tuning job's lease.
        """
        if self.job.terminal:
            return self.job
        if not leases.take_lease(self.store, self.job, self.owner, os.getpid(), socket.gethostname()):
            raise ConflictError(running_elsewhere(repo.get_tuning_job(self.store, self.job.name)))
        try:
            self._begin_run()
            self._load()
            self._recover()
            return self._loop()
        except KeyboardInterrupt:
            self._stop_all("interrupted")
            self._drain()
            self._end_run(status=TuningJobStatus.STOPPED, status_reason="interrupted")
            raise
        except LeaseLost:
            raise
        except Exception as exc:
            self._crashed(exc)
            raise
        finally:
            self._release()

    def _loop(self) -> TuningJob:
        while True:
            status = self._sync_status()
            if status.terminal:  # ended from outside, e.g. by 'modeltune stop' while this controller seemed dead
                self._stop_all("the tuning job was ended from outside")
                self._drain()
                return self.job
            if status == TuningJobStatus.STOPPING:
                self._stop_all("stopped by request")
                if not self.running:
                    return self._finish(TuningJobStatus.STOPPED, "stopped by request")
            else:
                self._enforce_limits()
                failures = self._final_failures()
                limit = self.spec.limits.max_failed_jobs
                if limit is not None and failures >= limit:
                    self._stop_all(f"the tuning job reached limits.max_failed_jobs ({limit})")
                    self._drain()
                    return self._finish(
                        TuningJobStatus.FAILED, f"{failures} training jobs failed, reaching limits.max_failed_jobs"
                    )
                self._launch_new()
                if not self.running and (self._exhausted or self._completion or self._created() >= self.spec.max_jobs):
                    return self._finish(TuningJobStatus.COMPLETED, self._end_reason())
            self._handle(self.executor.poll(self.poll_seconds))
            self._report_progress()

    def _crashed(self, exc: Exception) -> None:
        """Record why this controller fails, leaving the training jobs running: a controller started with
        'modeltune resume' re-attaches to them. The store may be what failed, so this may fail too."""
        reason = f"the controller failed ({type(exc).__name__}: {exc}); 'modeltune resume {self.job.name}' continues"
        try:
            repo.update_tuning_job(self.store, self.job.id, status_reason=reason)
        except ModeltuneError:
            pass

    def _release(self) -> None:
        try:
            leases.release_lease(self.store, self.job.id, self.owner)
        except ModeltuneError:  # the store failed: the lease expires by itself
            pass

    # -- state kept in the store -------------------------------------------------------------------

    def _begin_run(self) -> None:
        """Count a crashed run's active time, and start timing this one."""
        job = self.job
        previous = job.active_seconds if job.run_started_at is not None else job.run_seconds
        repo.update_tuning_job(self.store, job.id, run_seconds=previous, run_started_at=utcnow())
        self.job = repo.get_tuning_job(self.store, job.name)

    def _end_run(self, **fields: Any) -> None:
        ended = utcnow()
        self.job = repo.get_tuning_job(self.store, self.job.name)
        run_seconds = self.job.run_seconds + (ended - (self.job.run_started_at or ended)).total_seconds()
        repo.update_tuning_job(
            self.store, self.job.id, ended_at=ended, run_seconds=run_seconds, run_started_at=None, **fields
        )
        self.job = repo.get_tuning_job(self.store, self.job.name)

    def _sync_status(self) -> TuningJobStatus:
        """Renew the lease now and then, and re-read the status (a stop may come from another process)."""
        now = time.monotonic()
        if self.stop_requested_locally:
            self.stop_requested_locally = False
            repo.request_stop(self.store, self.job.name)
        if now - self._last_heartbeat >= leases.HEARTBEAT_SECONDS:
            if not leases.renew_lease(self.store, self.job.id, self.owner):
                raise LeaseLost(self.job.name)
            self._last_heartbeat = now
        self.job = repo.get_tuning_job(self.store, self.job.name)
        return self.job.status

    def _load(self) -> None:
        """The mirror of this job's training jobs and their objective curves, from the store."""
        records = repo.list_training_jobs(self.store, self.job.id)
        self.records = {r.id: r for r in records}
        metric = self.spec.objective.metric
        values = repo.metric_values(self.store, list(self.records))
        self.curves = {tid: [(v.step, v.value) for v in vs if v.name == metric] for tid, vs in values.items()}

    def _recover(self) -> None:
        """Re-attach to the training jobs a previous controller left running; launch those it created but
        never started."""
        unfinished = [r for r in self.records.values() if r.status.running]
        for record in unfinished:
            if not record.status.running:
                continue
            monitor = RunningJob(record, self.spec)
            files = JobFiles(record.name, Path(record.log_path), Path(record.output_dir))
            if self.executor.attach(files, monitor.log_offset):
                self.running[record.name] = monitor
                if record.started_at is None:
                    self._update(record, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow())
            elif record.status != TrainingJobStatus.PENDING:  # started, but its files are gone
                self._update(
                    record,
                    status=TrainingJobStatus.FAILED,
                    ended_at=utcnow(),
                    retryable=True,
                    status_reason="lost: its folder no longer shows that it ran",
                )
            elif self.job.status == TuningJobStatus.IN_PROGRESS:
                self._start(monitor)
            else:
                self._update(record, status=TrainingJobStatus.STOPPED, status_reason="stopped before it started")
        if unfinished:
            log.info("re-attached to %d of %d unfinished training jobs", len(self.running), len(unfinished))

    def _update(self, record: TrainingJob, **fields: Any) -> TrainingJob:
        """Write ``fields`` of a training job to the store and to the mirror."""
        repo.update_training_job(self.store, record.id, **fields)
        updated = replace(self.records[record.id], **fields)
        self.records[record.id] = updated
        if record.name in self.running:
            self.running[record.name].record = updated
        return updated

    def _created(self) -> int:
        """Training jobs counted against the budget (retries are not)."""
        return sum(1 for r in self.records.values() if r.retry_of is None)

    def _retried(self) -> set[int]:
        return {r.retry_of for r in self.records.values() if r.retry_of is not None}

    def _final_failures(self) -> int:
        """Failed training jobs that will not be retried."""
        retried = self._retried()
        return sum(1 for r in self.records.values() if r.status == TrainingJobStatus.FAILED and r.id not in retried)

    def _history(self) -> list[Observation]:
        retried = self._retried()
        own = [
            Observation(
                r.hyperparameters,
                r.status,
                r.final_objective,
                curve=tuple(self.curves.get(r.id, ())),
                number=r.number,
            )
            for r in self.records.values()
            if r.id not in retried
        ]
        return self.parents + own

    # -- launching and stopping ------------------------------------------------------------------------

    def _launch_new(self) -> None:
        free = self.spec.limits.max_parallel_jobs - len(self.running)
        for record in self._retries_due()[: max(0, free)]:
            self._launch(record.hyperparameters, retry_of=record.id)
            free -= 1
        self._completion = self._completion or self._check_completion()
        count = min(free, self.spec.max_jobs - self._created())
        if count <= 0 or self._exhausted or self._completion:
            return
        suggestions = self.strategy.suggest(self._history(), count)
        if len(suggestions) < count:
            self._exhausted = True
        for hyperparameters in suggestions:
            self._launch(hyperparameters)

    def _retries_due(self) -> list[TrainingJob]:
        """Failed training jobs whose failure was not their code's fault and that have retries left."""
        limit = self.spec.training.max_retry_attempts
        if limit == 0:
            return []
        retried = self._retried()
        due = []
        for record in self.records.values():
            if not record.retryable or record.id in retried:
                continue
            attempts, earlier = 1, record.retry_of
            while earlier is not None:
                attempts, earlier = attempts + 1, self.records[earlier].retry_of
            if attempts <= limit:
                due.append(record)
        return due

    def _launch(self, hyperparameters: dict[str, Any], retry_of: int | None = None) -> None:
        number = max((r.number for r in self.records.values()), default=0) + 1
        name = f"{self.job.name}-{number:03d}"
        folder = self.store.jobs_folder() / self.job.name / name
        record = repo.add_training_job(
            self.store, self.job.id, number, name, hyperparameters, str(folder / LOG_FILE), str(folder), retry_of
        )
        self.records[record.id] = record
        self._start(RunningJob(record, self.spec))

    def _start(self, monitor: RunningJob) -> None:
        record = monitor.record
        request = prepare_launch(self.spec, record.name, record.hyperparameters, Path(record.output_dir), record.number)
        self.running[record.name] = monitor
        pid = self.executor.launch(request)
        self._update(
            record, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow(), pid=pid, host=socket.gethostname()
        )

    def _enforce_limits(self) -> None:
        limit = self.spec.limits.max_runtime_per_training_job
        if limit is not None:
            now = utcnow()
            for name, job in self.running.items():
                started = job.record.started_at
                if started is not None and (now - started).total_seconds() > limit and job.stop_reason is None:
                    self._stop(name, f"MaxRuntimeExceeded: ran longer than the {limit:g} s limit")
        tuning_limit = self.spec.limits.max_runtime
        if tuning_limit is not None and time.monotonic() - self._started > tuning_limit:
            self._exhausted = True
            self._stop_all(f"MaxRuntimeExceeded: the tuning job reached its {tuning_limit:g} s limit")

    def _stop(self, name: str, reason: str, status: TrainingJobStatus = TrainingJobStatus.STOPPED) -> None:
        job = self.running[name]
        if job.stop_reason is None:
            job.request_stop(reason, status)
            self._update(job.record, status=TrainingJobStatus.STOPPING, stop_reason=reason, stop_status=status)
            self.executor.stop(name, self.spec.training.stop_grace_seconds)

    def _stop_all(self, reason: str) -> None:
        for name in list(self.running):
            self._stop(name, reason)

    # -- events ------------------------------------------------------------------------------------------

    def _handle(self, events: list[ExecutorEvent]) -> None:
        new_values: dict[str, list[MetricValue]] = {}
        exits: list[ExecutorEvent] = []
        for event in events:
            job = self.running.get(event.name)
            if job is None:
                continue
            if event.is_exit:
                exits.append(event)
            else:
                new_values.setdefault(event.name, []).extend(job.feed_line(event.line or "", event.offset))
        for name, job in self.running.items():
            values = new_values.get(name, []) + job.read_files()
            if values:  # lines without values need not be recorded: reading them again finds nothing
                repo.record_progress(self.store, job.record.id, values, job.cursor)
                self._apply_stopping_rule(job, values)
        for event in exits:
            self._finish_training_job(event)

    def _apply_stopping_rule(self, job: RunningJob, values: list[MetricValue]) -> None:
        """Extend the job's curve with its new objective values; stop it if the rule says so."""
        objective = [(v.step, v.value) for v in values if v.name == self.spec.objective.metric]
        if not objective:
            return
        self.curves.setdefault(job.record.id, []).extend(objective)
        if self.stopping_rule is None or job.stop_reason is not None:
            return
        history = self._history()
        observation = next(o for o in history if not o.source and o.number == job.record.number)
        decision = self.stopping_rule.should_stop(observation, history)
        if decision is not None:
            self._stop(job.name, decision.reason, decision.status)

    def _finish_training_job(self, event: ExecutorEvent) -> None:
        job = self.running.pop(event.name)
        outcome = job.outcome(event.exit_code, event.error)
        self._update(
            job.record,
            status=outcome.status,
            final_objective=outcome.final_objective,
            status_reason=outcome.reason,
            exit_code=event.exit_code,
            ended_at=event.ended_at or utcnow(),
            retryable=outcome.retryable,
        )

    def _drain(self) -> None:
        deadline = time.monotonic() + self.spec.training.stop_grace_seconds + 10
        while self.running and time.monotonic() < deadline:
            self._handle(self.executor.poll(self.poll_seconds))

    def _check_completion(self) -> Completion | None:
        scored = [r for r in self.records.values() if r.status.scored and r.final_objective is not None]
        scored.sort(key=lambda r: (r.ended_at or r.created_at, r.number))
        return check_completion(self.spec.completion_criteria, self.spec.objective.type, scored, len(self.spec.ranges))

    def _end_reason(self) -> str | None:
        if self._completion is not None:
            return self._completion.reason
        limit = self.spec.limits.max_runtime
        if limit is not None and time.monotonic() - self._started > limit:
            return f"reached the tuning job's {limit:g} s runtime limit"
        return None

    def _finish(self, status: TuningJobStatus, reason: str | None) -> TuningJob:
        records = self.records.values()
        if (
            status == TuningJobStatus.COMPLETED
            and records
            and all(r.status == TrainingJobStatus.FAILED for r in records)
        ):
            status, reason = TuningJobStatus.FAILED, "every training job failed; see 'modeltune training-jobs' for why"
        details = self._completion.details if self._completion else None
        self._end_run(status=status, status_reason=reason, completion_details=details)
        self._report_progress(force=True)
        return self.job

    def _report_progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        progress = Progress.of(self.job, self.spec, list(self.records.values()))
        if force or progress != self._last_progress:
            self._last_progress = progress
            self.on_progress(progress)


def running_elsewhere(job: TuningJob) -> str:
    """The one-line message for a tuning job another controller holds."""
    since = job.run_started_at.isoformat(timespec="seconds") + "Z" if job.run_started_at else "an unknown time"
    return (
        f"tuning job {job.name!r} is already run by a controller on {job.controller_host} (pid {job.controller_pid}) "
        f"since {since}; stop it with 'modeltune stop {job.name}' or wait for it"
    )
