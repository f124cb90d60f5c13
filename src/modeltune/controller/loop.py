"""The tuning loop: ask the strategy, launch training jobs, follow their metrics, stop, finish.

A controller holds the tuning job's lease while it runs (one controller per tuning job). It
decides; a runner (``modeltune.runners``) carries the decisions out and records what the
training jobs report. The controller keeps a mirror of the job's training jobs, loaded from the
store when it starts and updated with every record it writes or its runner reports, so a step
costs the same however many training jobs there are; nothing in it cannot be rebuilt from the
store. When it starts, its runner re-attaches to the training jobs a previous controller left
running (they run on without one).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from modeltune.analytics.progress import Progress
from modeltune.controller.completion import Completion, check_completion
from modeltune.controller.mirror import TrainingJobMirror
from modeltune.controller.warm_start import parent_observations
from modeltune.core import (
    ExecutorName,
    Observation,
    TrainingJobCounts,
    TrainingJobStatus,
    TuningJobStatus,
    best_training_job,
    utcnow,
)
from modeltune.errors import ConflictError, ModeltuneError
from modeltune.executors import Executor
from modeltune.executors.contract import LOG_FILE
from modeltune.integrations import tracker_for
from modeltune.runners import LocalRunner, Runner, RunnerEvents
from modeltune.runners.uploads import UPLOAD_WAIT_SECONDS
from modeltune.spec import TuningJobSpec
from modeltune.stopping import StoppingRule
from modeltune.store import Store, TrainingJob, TuningJob, leases
from modeltune.store import repository as repo
from modeltune.strategies import Strategy, make_strategy, stopping_rule_for

log = logging.getLogger(__name__)
# How often the tuning job's status is read again: a stop can come from another process.
_STATUS_READ_SECONDS = 0.2


class LeaseLost(ConflictError):
    """Another controller took over this tuning job (this one was frozen longer than its lease)."""

    def __init__(self, name: str):
        super().__init__(
            f"tuning job {name!r} was taken over by another controller after this one stopped renewing its lease; "
            "this controller exits and leaves the training jobs to it"
        )


def runner_for(spec: TuningJobSpec, store: Store, executor: Executor | None = None) -> Runner:
    """The runner the spec asks for: local processes (the default), workers that claim training jobs, or
    tasks of a Ray cluster."""
    if spec.executor == ExecutorName.WORKERS:
        from modeltune.runners.pool import WorkerPoolRunner

        return WorkerPoolRunner(store)
    if spec.executor == ExecutorName.RAY and executor is None:
        from modeltune.runners.ray import RayRunner

        return RayRunner(store, spec.ray_address)
    return LocalRunner(store, executor)


class Controller:
    """Runs one tuning job to its end.

    Args:
        store: the store holding the tuning job.
        name: the tuning job's name (created beforehand with status InProgress).
        executor: where a local runner runs training jobs (local processes by default).
        on_progress: called with a ``Progress`` whenever the counts or the best value change.
        poll_seconds: longest wait for the runner's events per loop iteration.
        runner: who runs the training jobs (by default the one the spec's ``executor`` names).
    """

    def __init__(
        self,
        store: Store,
        name: str,
        executor: Executor | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        poll_seconds: float = 0.25,
        runner: Runner | None = None,
    ):
        self.store = store
        self.job = repo.get_tuning_job(store, name)
        self.spec = TuningJobSpec.model_validate(self.job.spec)
        self.runner = runner or runner_for(self.spec, store, executor)
        self.on_progress = on_progress
        self.poll_seconds = poll_seconds
        self.owner = uuid.uuid4().hex
        self.strategy: Strategy = make_strategy(
            self.spec.strategy,
            self.spec.space,
            self.spec.objective.type,
            int(self.spec.random_seed or 0),
            self.spec.max_jobs,
            **self.spec.strategy_options(),
        )
        stopping = self.spec.early_stopping
        self.stopping_rule: StoppingRule | None = stopping_rule_for(
            self.strategy, stopping.type, stopping.min_steps, stopping.min_peers
        )
        self.parents: list[Observation] = parent_observations(store, self.spec)
        self.tracker = tracker_for(self.spec, store, self.job)
        self.jobs = TrainingJobMirror([], {})
        self.stop_requested_locally = False
        self._completion: Completion | None = None
        self._exhausted = False
        self._last_heartbeat = 0.0
        self._status_read_at = float("-inf")
        self._started = time.monotonic()
        self._last_progress: Progress | None = None
        self._progress_version = -1

    def request_stop(self) -> None:
        """Ask for a graceful stop from this process (e.g. on Ctrl-C)."""
        self.stop_requested_locally = True

    def kill_all(self) -> None:
        """Kill every running training job at once (e.g. on a second Ctrl-C); they end Stopped."""
        for record in self.jobs.active:
            self.runner.stop(record, 0)

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
            self.jobs = TrainingJobMirror.load(self.store, self.job.id, self.spec.objective.metric)
            self._recover()
            if self.tracker is not None:
                self.tracker.start()
            return self._loop()
        except KeyboardInterrupt:
            self._stop_all("interrupted")
            self._drain()
            self._settle_uploads()
            self._end_run(status=TuningJobStatus.STOPPED, status_reason="interrupted")
            raise
        except LeaseLost:
            raise
        except Exception as exc:
            self._crashed(exc)
            raise
        finally:
            if self.tracker is not None:
                self.tracker.close(self.job.status.value if self.job.terminal else None)
            self._release()

    def _loop(self) -> TuningJob:
        while True:
            status = self._sync_status()
            if status.terminal:  # ended from outside, e.g. by 'modeltune stop' while this controller seemed dead
                self._stop_all("the tuning job was ended from outside")
                self._drain()
                self._settle_uploads()
                return self.job
            if status == TuningJobStatus.STOPPING:
                self._stop_all("stopped by request")
                if not self.jobs.active:
                    return self._finish(TuningJobStatus.STOPPED, "stopped by request")
            else:
                self._enforce_limits()
                limit = self.spec.limits.max_failed_jobs
                if limit is not None and self.jobs.final_failures >= limit:
                    self._stop_all(f"the tuning job reached limits.max_failed_jobs ({limit})")
                    self._drain()
                    reason = f"{self.jobs.final_failures} training jobs failed, reaching limits.max_failed_jobs"
                    return self._finish(TuningJobStatus.FAILED, reason)
                self._launch_new()
                spent = self._exhausted or self._completion or self.jobs.created >= self.spec.max_jobs
                if spent and not self.jobs.active:
                    return self._finish(TuningJobStatus.COMPLETED, self._end_reason())
            self._absorb(self.runner.poll(self.poll_seconds))
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
            self._status_read_at = float("-inf")
        if now - self._last_heartbeat >= leases.HEARTBEAT_SECONDS:
            if not leases.renew_lease(self.store, self.job.id, self.owner):
                raise LeaseLost(self.job.name)
            self._last_heartbeat = now
        if now - self._status_read_at >= _STATUS_READ_SECONDS:
            self.job = repo.get_tuning_job(self.store, self.job.name)
            self._status_read_at = now
        return self.job.status

    def _recover(self) -> None:
        """Let the runner follow the training jobs a previous controller left unfinished; launch those it
        created but never started (or drop them when the job is being stopped), and keep the model artifacts
        it did not finish keeping."""
        self.runner.keep_again([r for r in self.jobs.records.values() if r.status.terminal], self.spec)
        unfinished = self.jobs.active
        if not unfinished:
            return
        for record in self.runner.recover(unfinished, self.spec):
            if self.job.status == TuningJobStatus.IN_PROGRESS:
                self.jobs.put(self.runner.launch(record, self.spec))
            else:
                self._update(record, status=TrainingJobStatus.STOPPED, status_reason="stopped before it started")
        self.jobs = TrainingJobMirror.load(self.store, self.job.id, self.spec.objective.metric)
        log.info("re-attached to %d of %d unfinished training jobs", len(self.runner.active()), len(unfinished))

    def _update(self, record: TrainingJob, **fields: Any) -> TrainingJob:
        """Write ``fields`` of a training job to the store and to the mirror."""
        repo.update_training_job(self.store, record.id, **fields)
        updated = replace(self.jobs.records[record.id], **fields)
        self.jobs.put(updated)
        return updated

    # -- launching and stopping ------------------------------------------------------------------------

    def _launch_new(self) -> None:
        free = self.spec.limits.max_parallel_jobs - len(self.jobs.active)
        retries = self.jobs.retries_due(self.spec.training.max_retry_attempts)[: max(0, free)]
        self._launch([(record.hyperparameters, record.id) for record in retries])
        self._completion = self._completion or self._check_completion()
        count = min(free - len(retries), self.spec.max_jobs - self.jobs.created)
        if count <= 0 or self._exhausted or self._completion:
            return
        suggestions = self.strategy.suggest(self.jobs.history(self.parents), count)
        self._exhausted = len(suggestions) < count
        self._launch([(hyperparameters, None) for hyperparameters in suggestions])

    def _launch(self, wanted: list[tuple[dict[str, Any], int | None]]) -> None:
        """Add training jobs with these hyperparameters (and the id of the training job each retries, if
        any) to the store in one transaction, then start them."""
        first = self.jobs.next_number()
        new = []
        for number, (hyperparameters, retry_of) in enumerate(wanted, start=first):
            name = f"{self.job.name}-{number:03d}"
            folder = self.store.jobs_folder() / self.job.name / name
            log_path = str(folder / LOG_FILE)
            new.append(repo.NewTrainingJob(number, name, hyperparameters, log_path, str(folder), retry_of))
        # Training jobs left without an owner wait for a worker to claim them; the rest are this controller's.
        owner = None if self.runner.claimable else self.owner
        for record in repo.add_training_jobs(self.store, self.job.id, new, owner):
            self.jobs.put(record)
            self.jobs.put(self.runner.launch(record, self.spec))

    def _enforce_limits(self) -> None:
        limit = self.spec.limits.max_runtime_per_training_job
        if limit is not None:
            now = utcnow()
            for record in self.jobs.active:
                started = record.started_at
                if started is not None and (now - started).total_seconds() > limit:
                    self._stop(record, f"MaxRuntimeExceeded: ran longer than the {limit:g} s limit")
        tuning_limit = self.spec.limits.max_runtime
        if tuning_limit is not None and time.monotonic() - self._started > tuning_limit:
            self._exhausted = True
            self._stop_all(f"MaxRuntimeExceeded: the tuning job reached its {tuning_limit:g} s limit")

    def _stop(self, record: TrainingJob, reason: str, status: TrainingJobStatus = TrainingJobStatus.STOPPED) -> None:
        """Record why a training job is stopped (the first reason wins), then have the runner stop it."""
        if record.stop_reason is not None:
            return
        stopping = self._update(record, status=TrainingJobStatus.STOPPING, stop_reason=reason, stop_status=status)
        self.runner.stop(stopping, self.spec.training.stop_grace_seconds)

    def _stop_all(self, reason: str) -> None:
        for record in self.jobs.active:
            self._stop(record, reason)

    # -- what the runner reports -------------------------------------------------------------------------

    def _absorb(self, events: RunnerEvents) -> None:
        """Take in the runner's news: records that changed, and new values for the stopping rule."""
        keeping = self.runner.keeping() if self.tracker is not None else []
        for record in events.changed:
            self.jobs.put(record)
            if record.status.terminal and self.tracker is not None and record.name not in keeping:
                self.tracker.ended(record.id)  # once its model artifact is recorded too
        objective = self.spec.objective.metric
        updated = [tid for tid, values in events.values.items() if self.jobs.extend_curve(tid, values, objective)]
        if self.stopping_rule is None:
            return
        history: list[Observation] | None = None
        for training_job_id in updated:
            record = self.jobs.records[training_job_id]
            if not record.status.running or record.stop_reason is not None:
                continue
            history = history or self.jobs.history(self.parents)
            decision = self.stopping_rule.should_stop(self.jobs.observation(record), history)
            if decision is not None:
                self._stop(record, decision.reason, decision.status)

    def _drain(self) -> None:
        deadline = time.monotonic() + self.spec.training.stop_grace_seconds + 10
        while self.jobs.active and time.monotonic() < deadline:
            self._absorb(self.runner.poll(self.poll_seconds))

    def _settle_uploads(self) -> None:
        """Wait for the model artifacts still being uploaded (at most ``UPLOAD_WAIT_SECONDS``, renewing the
        lease), then record those still unfinished as failed uploads."""
        deadline = time.monotonic() + UPLOAD_WAIT_SECONDS
        while self.runner.keeping() and time.monotonic() < deadline:
            self._sync_status()
            self._absorb(self.runner.poll(self.poll_seconds))
        if self.runner.keeping():
            self._absorb(self.runner.abandon(f"not done {UPLOAD_WAIT_SECONDS:g} s after the tuning job ended"))

    def _check_completion(self) -> Completion | None:
        scored = self.jobs.scored_in_end_order()
        return check_completion(self.spec.completion_criteria, self.spec.objective.type, scored, len(self.spec.ranges))

    def _end_reason(self) -> str | None:
        if self._completion is not None:
            return self._completion.reason
        limit = self.spec.limits.max_runtime
        if limit is not None and time.monotonic() - self._started > limit:
            return f"reached the tuning job's {limit:g} s runtime limit"
        return None

    def _finish(self, status: TuningJobStatus, reason: str | None) -> TuningJob:
        self._settle_uploads()
        records = list(self.jobs.records.values())
        all_failed = bool(records) and all(r.status == TrainingJobStatus.FAILED for r in records)
        if status == TuningJobStatus.COMPLETED and all_failed:
            status, reason = TuningJobStatus.FAILED, "every training job failed; see 'modeltune training-jobs' for why"
        details = self._completion.details if self._completion else None
        self._end_run(status=status, status_reason=reason, completion_details=details)
        self._report_progress(force=True)
        return self.job

    def _report_progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        if not force and self.jobs.version == self._progress_version and self._last_progress is not None:
            return
        self._progress_version = self.jobs.version
        jobs = list(self.jobs.records.values())
        best = best_training_job(jobs, self.spec.objective.type)
        progress = Progress.of(self.job, self.spec, TrainingJobCounts.of(jobs), best)
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
