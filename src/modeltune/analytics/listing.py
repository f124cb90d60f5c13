"""Lists of tuning jobs and training jobs, as the CLI, the Python API and the REST API show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from modeltune.analytics.progress import Progress
from modeltune.core import MetricValue
from modeltune.errors import SpecError
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, TuningJob
from modeltune.store import repository as repo
from modeltune.store.leases import controller_alive

TrainingJobOrder = Literal["objective", "number", "time"]
TRAINING_JOB_ORDERS: tuple[TrainingJobOrder, ...] = ("objective", "number", "time")


@dataclass(frozen=True)
class TuningJobSummary:
    """One tuning job in a list: its record, its spec and its progress."""

    job: TuningJob
    spec: TuningJobSpec
    progress: Progress

    @property
    def interrupted(self) -> bool:
        """True when the job has not ended but no controller runs it (``resume`` continues it)."""
        return not self.job.terminal and not controller_alive(self.job)

    def as_dict(self) -> dict[str, Any]:
        """SageMaker's HyperParameterTuningJobSummary names, with the progress counts."""
        return {
            "HyperParameterTuningJobName": self.job.name,
            "HyperParameterTuningJobStatus": self.job.status.value,
            "Strategy": self.spec.strategy.value,
            "CreationTime": self.job.created_at.isoformat() + "Z",
            "TrainingJobsDone": self.progress.done,
            "MaxNumberOfTrainingJobs": self.progress.total,
            "BestObjectiveValue": self.progress.best_value,
            "Interrupted": self.interrupted,
        }


def tuning_job_summaries(store: Store) -> list[TuningJobSummary]:
    """Every tuning job in the store with its progress, newest first."""
    summaries = []
    for job in repo.list_tuning_jobs(store):
        spec = TuningJobSpec.model_validate(job.spec)
        summaries.append(TuningJobSummary(job, spec, Progress.of(job, spec, repo.list_training_jobs(store, job.id))))
    return summaries


@dataclass(frozen=True)
class TrainingJobList:
    """A tuning job's training jobs in the order asked for, with each one's objective curve."""

    spec: TuningJobSpec
    jobs: list[TrainingJob]
    curves: dict[int, list[MetricValue]]


def training_job_list(store: Store, name: str, order: str = "number") -> TrainingJobList:
    """The training jobs of tuning job ``name`` sorted by ``order``: objective (best first), number or time.

    Raises:
        SpecError: ``order`` is not one of objective, number, time.
        NotFoundError: no tuning job is called ``name``.
    """
    if order not in TRAINING_JOB_ORDERS:
        raise SpecError(f"the order must be objective, number or time, not {order!r}")
    tuning_job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(tuning_job.spec)
    jobs = repo.list_training_jobs(store, tuning_job.id)
    values = repo.metric_values(store, [j.id for j in jobs])
    curves = {tid: [v for v in vs if v.name == spec.objective.metric] for tid, vs in values.items()}
    if order == "objective":
        loss = spec.objective.type.loss
        jobs.sort(key=lambda j: (j.final_objective is None, loss(j.final_objective or 0.0), j.number))
    elif order == "time":
        jobs.sort(key=lambda j: (j.started_at is None, j.started_at or j.created_at, j.number))
    return TrainingJobList(spec, jobs, curves)
