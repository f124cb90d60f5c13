"""Lists of tuning jobs and training jobs, as the CLI, the Python API and the REST API show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from modeltune.analytics.progress import Progress
from modeltune.core import ExecutorName, MetricValue, ObjectiveType
from modeltune.errors import SpecError
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, TuningJob, aggregates
from modeltune.store import repository as repo
from modeltune.store.leases import controller_alive

TrainingJobOrder = Literal["objective", "number", "time"]
TRAINING_JOB_ORDERS: tuple[TrainingJobOrder, ...] = ("objective", "number", "time")


def interrupted(job: TuningJob, spec: TuningJobSpec) -> bool:
    """True when ``job`` has not ended but no controller runs it (``resume`` continues it); never for a job
    that ``modeltune.Optimizer`` processes fill, which has no controller."""
    return not job.terminal and spec.executor != ExecutorName.ASK_TELL and not controller_alive(job)


@dataclass(frozen=True)
class TuningJobSummary:
    """One tuning job in a list: its record, its spec and its progress."""

    job: TuningJob
    spec: TuningJobSpec
    progress: Progress

    @property
    def interrupted(self) -> bool:
        """True when the job has not ended but no controller runs it (``resume`` continues it)."""
        return interrupted(self.job, self.spec)

    def as_dict(self) -> dict[str, Any]:
        """SageMaker's HyperParameterTuningJobSummary names, with the progress counts."""
        return {
            "HyperParameterTuningJobName": self.job.name,
            "HyperParameterTuningJobStatus": self.job.status.value,
            "Strategy": self.spec.strategy.value,
            "HyperParameterTuningJobObjective": {
                "MetricName": self.spec.objective.metric,
                "Type": self.spec.objective.type.value,
            },
            "CreationTime": self.job.created_at.isoformat() + "Z",
            "TrainingJobsDone": self.progress.done,
            "TrainingJobsFailed": self.progress.failed,
            "MaxNumberOfTrainingJobs": self.progress.total,
            "BestObjectiveValue": self.progress.best_value,
            "Interrupted": self.interrupted,
        }


def tuning_job_summaries(store: Store) -> list[TuningJobSummary]:
    """Every tuning job in the store with its progress, newest first."""
    jobs = repo.list_tuning_jobs(store)
    counts = aggregates.training_job_counts(store, [job.id for job in jobs])
    summaries = []
    for job in jobs:
        spec = TuningJobSpec.model_validate(job.spec)
        best = aggregates.best_training_job(store, job.id, spec.objective.type)
        summaries.append(TuningJobSummary(job, spec, Progress.of(job, spec, counts[job.id], best)))
    return summaries


@dataclass(frozen=True)
class TrainingJobList:
    """A page of a tuning job's training jobs in the order asked for, with each one's objective curve.

    Attributes:
        total: how many training jobs the tuning job has (the page may hold fewer).
    """

    spec: TuningJobSpec
    jobs: list[TrainingJob]
    curves: dict[int, list[MetricValue]]
    total: int


def training_job_list(
    store: Store, name: str, order: str = "number", limit: int | None = None, offset: int = 0
) -> TrainingJobList:
    """The training jobs of tuning job ``name`` sorted by ``order``: objective (best first), number or time;
    ``limit`` of them (all when None) from position ``offset`` on. The database sorts and pages, so the
    first page of a tuning job with 10,000 training jobs reads only that page's rows and curves.

    Raises:
        SpecError: ``order`` is not one of objective, number, time, or ``limit``/``offset`` is negative.
        NotFoundError: no tuning job is called ``name``.
    """
    if order not in TRAINING_JOB_ORDERS:
        raise SpecError(f"the order must be objective, number or time, not {order!r}")
    if (limit is not None and limit < 0) or offset < 0:
        raise SpecError("the limit and the offset must be 0 or more")
    tuning_job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(tuning_job.spec)
    maximize = spec.objective.type == ObjectiveType.MAXIMIZE
    jobs = repo.page_training_jobs(store, tuning_job.id, order, maximize, limit, offset)
    curves = repo.metric_values(store, [j.id for j in jobs], spec.objective.metric)
    total = len(jobs) if limit is None and offset == 0 else repo.count_training_jobs(store, tuning_job.id, retries=True)
    return TrainingJobList(spec, jobs, curves, total)


def named_or_best(store: Store, name: str, training_job: str | None) -> TrainingJob | None:
    """Training job ``training_job`` (a name or number) of tuning job ``name``, or when it is None the
    tuning job's best training job (None while no training job has an objective value).

    Raises:
        NotFoundError: no such tuning job or training job.
    """
    tuning_job = repo.get_tuning_job(store, name)
    if training_job is not None:
        return repo.get_training_job(store, tuning_job, training_job)
    objective = TuningJobSpec.model_validate(tuning_job.spec).objective.type
    return aggregates.best_training_job(store, tuning_job.id, objective)
