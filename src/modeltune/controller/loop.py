"""The tuning loop: ask the strategy, launch training jobs, follow their metrics, finish."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modeltune.analytics.progress import Progress
from modeltune.controller.running_job import RunningJob
from modeltune.controller.warm_start import parent_observations
from modeltune.core import MetricValue, Observation, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.executors import Executor, ExecutorEvent, LocalExecutor
from modeltune.executors.contract import prepare_launch
from modeltune.spec import TuningJobSpec
from modeltune.stopping import StoppingRule
from modeltune.store import Store, TuningJob
from modeltune.store import repository as repo
from modeltune.strategies import Strategy, make_strategy, stopping_rule_for

HEARTBEAT_SECONDS = 2.0


class Controller:
    """Runs one tuning job to its end; everything it knows is rebuilt from the store.

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
        self.curves = self._load_curves()
        self.parents: list[Observation] = parent_observations(store, self.spec)
        self.running: dict[str, RunningJob] = {}
        self.stop_requested_locally = False
        self._exhausted = False
        self._end_reason: str | None = None
        self._last_heartbeat = 0.0
        self._started = time.monotonic()
        self._last_progress: Progress | None = None

    def request_stop(self) -> None:
        """Ask for a graceful stop from this process (e.g. on Ctrl-C)."""
        self.stop_requested_locally = True

    def run(self) -> TuningJob:
        """Run until the budget is spent, the space is exhausted, or a stop is requested."""
        if self.job.terminal:
            return self.job
        repo.update_tuning_job(
            self.store,
            self.job.id,
            controller_pid=os.getpid(),
            controller_host=socket.gethostname(),
            heartbeat_at=utcnow(),
        )
        self._recover_interrupted()
        try:
            while True:
                status = self._sync_status()
                if status.terminal:  # ended from outside, e.g. by 'modeltune stop'
                    self._stop_all("the tuning job was ended from outside")
                    self._drain(deadline=time.monotonic() + self.spec.training.stop_grace_seconds + 5)
                    return self.job
                if status == TuningJobStatus.STOPPING:
                    self._stop_all("stopped by request")
                    if not self.running:
                        return self._finish(TuningJobStatus.STOPPED, "stopped by request")
                else:
                    self._enforce_limits()
                    self._launch_new()
                    if not self.running and (self._exhausted or self._created() >= self.spec.max_jobs):
                        return self._finish(TuningJobStatus.COMPLETED, self._end_reason)
                self._handle(self.executor.poll(self.poll_seconds))
                self._report_progress()
        except KeyboardInterrupt:
            self._abort(TuningJobStatus.STOPPED, "interrupted")
            raise
        except Exception as exc:
            self._abort(TuningJobStatus.FAILED, f"the controller failed: {type(exc).__name__}: {exc}")
            raise

    def _abort(self, status: TuningJobStatus, reason: str) -> None:
        """End the tuning job after an unexpected exit, keeping what the training jobs reported."""
        self._stop_all(reason)
        self._drain(deadline=time.monotonic() + self.spec.training.stop_grace_seconds + 5)
        repo.update_tuning_job(self.store, self.job.id, status=status, status_reason=reason, ended_at=utcnow())

    # -- state kept in the store -------------------------------------------------------------------

    def _sync_status(self) -> TuningJobStatus:
        """Heartbeat, and re-read the status now and then (a stop may come from another process)."""
        now = time.monotonic()
        refresh = now - self._last_heartbeat >= HEARTBEAT_SECONDS
        if self.stop_requested_locally:
            self.stop_requested_locally = False
            repo.request_stop(self.store, self.job.name)
            refresh = True
        if refresh:
            repo.update_tuning_job(self.store, self.job.id, heartbeat_at=utcnow())
            self._last_heartbeat = now
            self.job = repo.get_tuning_job(self.store, self.job.name)
        return self.job.status

    def _recover_interrupted(self) -> None:
        """Training jobs left running by a controller that died cannot be followed: end them."""
        for job in repo.list_training_jobs(self.store, self.job.id):
            if job.status.running:
                repo.update_training_job(
                    self.store,
                    job.id,
                    status=TrainingJobStatus.FAILED,
                    ended_at=utcnow(),
                    status_reason="interrupted: the controller stopped while this training job ran",
                )

    def _created(self) -> int:
        return repo.count_training_jobs(self.store, self.job.id)

    def _load_curves(self) -> dict[int, list[tuple[float, float]]]:
        """Objective values of every training job so far, by training job id (rebuilt from the store)."""
        ids = [job.id for job in repo.list_training_jobs(self.store, self.job.id)]
        metric = self.spec.objective.metric
        return {
            tid: [(v.step, v.value) for v in values if v.name == metric]
            for tid, values in repo.metric_values(self.store, ids).items()
        }

    def _history(self) -> list[Observation]:
        own = [
            Observation(
                job.hyperparameters,
                job.status,
                job.final_objective,
                curve=tuple(self.curves.get(job.id, ())),
                number=job.number,
            )
            for job in repo.list_training_jobs(self.store, self.job.id)
        ]
        return self.parents + own

    # -- launching and stopping ------------------------------------------------------------------------

    def _launch_new(self) -> None:
        free = self.spec.limits.max_parallel_jobs - len(self.running)
        remaining = self.spec.max_jobs - self._created()
        count = min(free, remaining)
        if count <= 0 or self._exhausted:
            return
        suggestions = self.strategy.suggest(self._history(), count)
        if len(suggestions) < count:
            self._exhausted = True
        for hyperparameters in suggestions:
            self._launch(hyperparameters)

    def _launch(self, hyperparameters: dict[str, Any]) -> None:
        number = self._created() + 1
        name = f"{self.job.name}-{number:03d}"
        folder = self.store.jobs_folder() / self.job.name / name
        record = repo.add_training_job(
            self.store, self.job.id, number, name, hyperparameters, str(folder / "output.log"), str(folder)
        )
        request = prepare_launch(self.spec, name, hyperparameters, folder, Path(record.log_path), number)
        self.running[name] = RunningJob(record, self.spec)
        pid = self.executor.launch(request)
        repo.update_training_job(
            self.store, record.id, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow(), pid=pid
        )

    def _enforce_limits(self) -> None:
        limit = self.spec.limits.max_runtime_per_training_job
        if limit is not None:
            for name, job in self.running.items():
                if job.elapsed() > limit and job.stop_reason is None:
                    self._stop(name, f"MaxRuntimeExceeded: ran longer than the {limit:g} s limit")
        tuning_limit = self.spec.limits.max_runtime
        if tuning_limit is not None and time.monotonic() - self._started > tuning_limit:
            self._exhausted = True
            self._end_reason = f"reached the tuning job's {tuning_limit:g} s runtime limit"
            self._stop_all(f"MaxRuntimeExceeded: the tuning job reached its {tuning_limit:g} s limit")

    def _stop(self, name: str, reason: str, status: TrainingJobStatus = TrainingJobStatus.STOPPED) -> None:
        job = self.running[name]
        if job.stop_reason is None:
            job.request_stop(reason, status)
            repo.update_training_job(self.store, job.record.id, status=TrainingJobStatus.STOPPING)
            self.executor.stop(name, self.spec.training.stop_grace_seconds)

    def _stop_all(self, reason: str) -> None:
        for name in list(self.running):
            self._stop(name, reason)

    # -- events ------------------------------------------------------------------------------------------

    def _handle(self, events: list[ExecutorEvent]) -> None:
        values: list[tuple[int, MetricValue]] = []
        exits: list[ExecutorEvent] = []
        for event in events:
            job = self.running.get(event.name)
            if job is None:
                continue
            if event.is_exit:
                exits.append(event)
            else:
                values += [(job.record.id, v) for v in job.feed_line(event.line or "")]
        for job in self.running.values():
            values += [(job.record.id, v) for v in job.read_files()]
        repo.add_metric_values(self.store, values)
        self._apply_stopping_rule(values)
        for event in exits:
            self._finish_training_job(event)

    def _apply_stopping_rule(self, values: list[tuple[int, MetricValue]]) -> None:
        """Record new objective values in the curves and stop the jobs the rule says to stop."""
        updated = set()
        for training_job_id, value in values:
            if value.name == self.spec.objective.metric:
                self.curves.setdefault(training_job_id, []).append((value.step, value.value))
                updated.add(training_job_id)
        if self.stopping_rule is None or not updated:
            return
        history = self._history()
        for name, job in list(self.running.items()):
            if job.record.id in updated and job.stop_reason is None:
                observation = next(o for o in history if not o.source and o.number == job.record.number)
                decision = self.stopping_rule.should_stop(observation, history)
                if decision is not None:
                    self._stop(name, decision.reason, decision.status)

    def _finish_training_job(self, event: ExecutorEvent) -> None:
        job = self.running.pop(event.name)
        outcome = job.outcome(event.exit_code, event.error)
        repo.update_training_job(
            self.store,
            job.record.id,
            status=outcome.status,
            final_objective=outcome.final_objective,
            status_reason=outcome.reason,
            exit_code=event.exit_code,
            ended_at=utcnow(),
        )

    def _drain(self, deadline: float) -> None:
        while self.running and time.monotonic() < deadline:
            self._handle(self.executor.poll(self.poll_seconds))

    def _finish(self, status: TuningJobStatus, reason: str | None) -> TuningJob:
        if status == TuningJobStatus.COMPLETED and self._all_failed():
            status, reason = (
                TuningJobStatus.FAILED,
                "every training job failed; see 'modeltune training-jobs' for the reasons",
            )
        repo.update_tuning_job(self.store, self.job.id, status=status, status_reason=reason, ended_at=utcnow())
        self.job = repo.get_tuning_job(self.store, self.job.name)
        self._report_progress(force=True)
        return self.job

    def _all_failed(self) -> bool:
        jobs = repo.list_training_jobs(self.store, self.job.id)
        return bool(jobs) and all(j.status == TrainingJobStatus.FAILED for j in jobs)

    def _report_progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        progress = Progress.of(self.job, self.spec, repo.list_training_jobs(self.store, self.job.id))
        if force or progress != self._last_progress:
            self._last_progress = progress
            self.on_progress(progress)
