"""Training jobs as MLflow runs: one experiment per tuning job, a parent run for the job, a run per training job.

The tracker works in a thread of the controller, so a slow or unreachable tracking server
never slows the tuning job down or fails it: training jobs that could not be recorded wait,
with one warning per outage in the controller's log, and are recorded once the server
answers again. Each run carries modeltune's names as tags, so a tracker started later (after
a crash or a ``resume``) finds what is recorded already and adds only what is missing.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from modeltune.core import TrainingJobStatus, best_training_job
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, TuningJob
from modeltune.store import repository as repo

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)
# Seconds between attempts while the tracking server does not answer.
RETRY_SECONDS = 10.0
# MLflow keys may hold letters, digits, '_', '-', '.', ' ' and '/': other characters become '_'.
_UNSAFE_KEY = re.compile(r"[^\w\-. /]")
_KIND = "modeltune.kind"
_RUN_STATUS = {
    TrainingJobStatus.COMPLETED: "FINISHED",
    TrainingJobStatus.STOPPED: "KILLED",
    TrainingJobStatus.FAILED: "FAILED",
}
_BATCH = 1000


def key(name: str) -> str:
    """``name`` as an MLflow metric or parameter key (SageMaker's ``validation:auc`` becomes ``validation_auc``)."""
    return _UNSAFE_KEY.sub("_", name)[:250]


class MlflowTracker:
    """Records a tuning job's ended training jobs as MLflow runs, from a thread of its own.

    Args:
        store: the tuning job's store.
        job: the tuning job.
        tracking_uri: the MLflow tracking server (or a local ``file:`` / ``sqlite:`` store).
        experiment: the experiment's name (default: the tuning job's name).
    """

    def __init__(self, store: Store, job: TuningJob, tracking_uri: str, experiment: str | None = None):
        self.store = store
        self.job = job
        self.spec = TuningJobSpec.model_validate(job.spec)
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment or job.name
        self._waiting: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="modeltune-mlflow", daemon=True)
        self._client: MlflowClient | None = None
        self._experiment_id = ""
        self._parent_id = ""
        self._recorded: set[str] = set()
        self._connected = False
        self._outage = False
        self._finished: tuple[str, float | None] | None = None

    def start(self) -> None:
        """Start recording; training jobs that ended before (e.g. before a crash) are recorded first."""
        self._thread.start()

    def ended(self, training_job_id: int) -> None:
        """Record this training job (it has just ended)."""
        self._waiting.put(training_job_id)

    def close(self, status: str | None = None, timeout: float = 120.0) -> None:
        """Record what is waiting and, with ``status``, end the parent run: wait while the tracking server
        answers (at most ``timeout`` seconds), not at all while it does not."""
        if status is not None:
            jobs = repo.list_training_jobs(self.store, self.job.id)
            best = best_training_job(jobs, self.spec.objective.type)
            self._finished = (status, best.final_objective if best else None)
        self._waiting.put(None)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and not self._outage and time.monotonic() < deadline:
            self._thread.join(0.5)

    # -- the thread --------------------------------------------------------------------------------

    def _work(self) -> None:
        pending = self._record(set())  # connect, and catch up with what ended before this tracker started
        closing = False
        while True:
            try:
                item = self._waiting.get(timeout=RETRY_SECONDS if pending or not self._connected else None)
            except queue.Empty:
                item = -1
            if item is None:
                closing = True
            elif item >= 0:
                pending.add(item)
            pending = self._record(pending)
            if closing:
                if self._connected and not pending and self._finished is not None:
                    self._end_parent()
                return

    def _record(self, pending: set[int]) -> set[int]:
        """Record the pending training jobs; those that could not be recorded."""
        try:
            if not self._connected:
                self._connect()
                pending |= {j.id for j in repo.list_training_jobs(self.store, self.job.id) if j.status.terminal}
            for training_job_id in sorted(pending):
                self._record_one(repo.get_training_job_by_id(self.store, training_job_id))
                pending = pending - {training_job_id}
        except Exception as exc:  # noqa: BLE001 - the tracking server's trouble must not touch the tuning job
            if not self._outage:  # one warning per outage
                log.warning(
                    "MLflow at %s did not answer (%s); %d training jobs wait and are recorded once it does",
                    self.tracking_uri,
                    str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                    len(pending),
                )
            self._outage = True
            self._connected = False
            return pending
        self._outage = False
        return pending

    def _connect(self) -> None:
        from mlflow.tracking import MlflowClient

        # Fail fast: the thread retries by itself, and MLflow's own retries would hold it for minutes.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        client = MlflowClient(tracking_uri=self.tracking_uri)
        experiment = client.get_experiment_by_name(self.experiment_name)
        self._experiment_id = experiment.experiment_id if experiment else client.create_experiment(self.experiment_name)
        runs = self._runs(client, f"tags.`modeltune.tuning_job` = '{self.job.name}'")
        parent = next((r for r in runs if r.data.tags.get(_KIND) == "tuning job"), None)
        if parent is None:
            parent = client.create_run(
                self._experiment_id,
                run_name=self.job.name,
                tags={_KIND: "tuning job", "modeltune.tuning_job": self.job.name, **self._job_tags()},
            )
            client.log_batch(parent.info.run_id, params=_params(self._spec_params()))
        self._parent_id = parent.info.run_id
        self._recorded = {r.data.tags.get("modeltune.training_job", "") for r in runs} - {""}
        self._client = client
        self._connected = True

    def _runs(self, client: MlflowClient, query: str) -> list[Any]:
        found, token = [], None
        while True:
            page = client.search_runs([self._experiment_id], query, max_results=1000, page_token=token)
            found += list(page)
            token = page.token
            if not token:
                return found

    def _record_one(self, record: TrainingJob) -> None:
        """One ended training job as a child run of the tuning job's run (unless it is there already)."""
        if record.name in self._recorded or self._client is None:
            return
        from mlflow.entities import Metric

        client = self._client
        started = _millis(record.started_at or record.created_at)
        tags = {
            "mlflow.parentRunId": self._parent_id,
            _KIND: "training job",
            "modeltune.tuning_job": self.job.name,
            "modeltune.training_job": record.name,
            "modeltune.number": str(record.number),
            "modeltune.status": record.status.value,
        }
        if record.status_reason:
            tags["modeltune.status_reason"] = record.status_reason[:5000]
        if record.artifact_uri:
            tags["modeltune.artifact_uri"] = record.artifact_uri
        run = client.create_run(self._experiment_id, start_time=started, tags=tags, run_name=record.name)
        values = repo.metric_values(self.store, [record.id])[record.id]
        metrics = [Metric(key(v.name), v.value, _millis(v.timestamp), int(round(v.step))) for v in values]
        if record.final_objective is not None:
            metrics.append(
                Metric("FinalObjectiveValue", record.final_objective, _millis(record.ended_at), record.number)
            )
        static = self.spec.training.static_hyperparameters if self.spec.training else {}
        hyperparameters = {**static, **record.hyperparameters}
        for index, chunk in enumerate(_chunks(metrics, _BATCH)):
            client.log_batch(run.info.run_id, metrics=chunk, params=_params(hyperparameters) if index == 0 else [])
        if not metrics:
            client.log_batch(run.info.run_id, params=_params(hyperparameters))
        end = _millis(record.ended_at) if record.ended_at else None
        client.set_terminated(run.info.run_id, status=_RUN_STATUS.get(record.status, "FAILED"), end_time=end)
        self._recorded.add(record.name)

    def _end_parent(self) -> None:
        if self._client is None or self._finished is None:
            return
        from mlflow.entities import Metric

        status, best = self._finished
        if best is not None:
            metric = Metric("BestObjectiveValue", best, int(time.time() * 1000), 0)
            self._client.log_batch(self._parent_id, metrics=[metric])
        self._client.set_tag(self._parent_id, "modeltune.status", status)
        self._client.set_terminated(self._parent_id, status="FINISHED" if status == "Completed" else "KILLED")

    def _job_tags(self) -> dict[str, str]:
        return {
            "modeltune.strategy": self.spec.strategy.value,
            "modeltune.objective": f"{self.spec.objective.type.value} {self.spec.objective.metric}",
        }

    def _spec_params(self) -> dict[str, Any]:
        return {"strategy": self.spec.strategy.value, "max_jobs": self.spec.max_jobs, "seed": self.spec.random_seed}


def _params(values: dict[str, Any]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(key(name), str(value)[:6000]) for name, value in values.items()]


def _millis(moment: Any) -> int:
    from datetime import UTC

    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
