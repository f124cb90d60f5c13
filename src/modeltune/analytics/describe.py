"""A tuning job described with SageMaker's DescribeHyperParameterTuningJob field names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modeltune.core import MetricValue, TrainingJobStatus, TuningJobStatus, best_training_job, jobs_not_improving
from modeltune.errors import NotFoundError
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo
from modeltune.store.leases import controller_alive


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def status_counters(jobs: Sequence[TrainingJob]) -> dict[str, int]:
    """How many training jobs are Completed, Failed, Stopped, and still running (``InProgress``)."""
    return {
        "Completed": sum(j.status == TrainingJobStatus.COMPLETED for j in jobs),
        "Failed": sum(j.status == TrainingJobStatus.FAILED for j in jobs),
        "Stopped": sum(j.status == TrainingJobStatus.STOPPED for j in jobs),
        "InProgress": sum(j.status.running for j in jobs),
    }


def training_job_summary(
    job: TrainingJob, spec: TuningJobSpec, curve: list[MetricValue] | None = None
) -> dict[str, Any]:
    """One training job as SageMaker's TrainingJobSummary, with its objective's learning curve when given."""
    summary: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobStatus": job.status.value,
        "TunedHyperParameters": {k: v for k, v in job.hyperparameters.items()},
        "FinalHyperParameterTuningJobObjectiveMetric": None
        if job.final_objective is None
        else {"MetricName": spec.objective.metric, "Value": job.final_objective},
        "CreationTime": _iso(job.created_at),
        "TrainingStartTime": _iso(job.started_at),
        "TrainingEndTime": _iso(job.ended_at),
        "TrainingElapsedTimeSeconds": job.elapsed_seconds,
    }
    if job.artifact_uri:
        summary["ModelArtifacts"] = {"S3ModelArtifacts": job.artifact_uri}  # SageMaker's name, for any location
    if curve is not None:
        summary["ObjectiveCurve"] = [{"Step": v.step, "Value": v.value} for v in curve]
    if job.status_reason:
        summary["FailureReason" if job.status == TrainingJobStatus.FAILED else "StatusReason"] = job.status_reason
    return summary


def describe_tuning_job(store: Store, name: str) -> dict[str, Any]:
    """Status, limits, counters by status, best training job and timings of a tuning job."""
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    jobs = repo.list_training_jobs(store, job.id)
    counts = status_counters(jobs)
    retryable = sum(j.status == TrainingJobStatus.FAILED and j.retryable for j in jobs)
    best = best_training_job(jobs, spec.objective.type)
    ended = [j.ended_at for j in jobs if j.ended_at]
    description: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobStatus": job.status.value,
        "Strategy": spec.strategy,
        "HyperParameterTuningJobObjective": {"MetricName": spec.objective.metric, "Type": spec.objective.type},
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": spec.max_jobs,
            "MaxParallelTrainingJobs": spec.limits.max_parallel_jobs,
            "MaxRuntimeInSeconds": spec.limits.max_runtime,
            "MaxRuntimePerTrainingJobInSeconds": spec.limits.max_runtime_per_training_job,
        },
        "RandomSeed": spec.random_seed,
        "TrainingJobStatusCounters": {
            "Completed": counts["Completed"],
            "InProgress": counts["InProgress"],
            "RetryableError": retryable,
            "NonRetryableError": counts["Failed"] - retryable,
            "Stopped": counts["Stopped"],
        },
        "ObjectiveStatusCounters": {
            "Succeeded": sum(j.final_objective is not None and j.status.scored for j in jobs),
            "Pending": counts["InProgress"],
            "Failed": sum(j.status.terminal and not (j.status.scored and j.final_objective is not None) for j in jobs),
        },
        "BestTrainingJob": training_job_summary(best, spec) if best else None,
        "CreationTime": _iso(job.created_at),
        "HyperParameterTuningEndTime": _iso(job.ended_at),
        "LastModifiedTime": _iso(max([job.created_at, *ended, *([job.ended_at] if job.ended_at else [])])),
        "ElapsedSeconds": job.active_seconds,
        "TuningJobCompletionCriteria": _criteria(spec),
        "TuningJobCompletionDetails": job.completion_details or _completion_details(spec, jobs),
    }
    if spec.warm_start:
        description["WarmStartConfig"] = {
            "WarmStartType": spec.warm_start.type,
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in spec.warm_start.parents],
        }
        if spec.warm_start.type == "IdenticalDataAndAlgorithm":
            overall = _overall_best(store, spec, jobs)
            description["OverallBestTrainingJob"] = training_job_summary(*overall) if overall else None
    if job.status_reason:
        description["FailureReason" if job.status == TuningJobStatus.FAILED else "StatusReason"] = job.status_reason
    if not job.terminal and not controller_alive(job):
        description["StatusReason"] = (
            f"interrupted: no controller runs this tuning job; 'modeltune resume {job.name}' continues it "
            "(training jobs still running are followed on)"
        )
    return description


def _criteria(spec: TuningJobSpec) -> dict[str, Any]:
    """The completion criteria with SageMaker's TuningJobCompletionCriteria names."""
    criteria = spec.completion_criteria
    described: dict[str, Any] = {}
    if criteria.target_objective_value is not None:
        described["TargetObjectiveMetricValue"] = criteria.target_objective_value
    if criteria.best_objective_not_improving is not None:
        patience = criteria.best_objective_not_improving.max_number_of_training_jobs_not_improving
        described["BestObjectiveNotImproving"] = {"MaxNumberOfTrainingJobsNotImproving": patience}
    if criteria.convergence_detected is not None:
        described["ConvergenceDetected"] = {
            "CompleteOnConvergence": criteria.convergence_detected.complete_on_convergence
        }
    return described


def _completion_details(spec: TuningJobSpec, jobs: list[TrainingJob]) -> dict[str, Any]:
    """How many training jobs have ended since the best objective last improved (while the job runs)."""
    scored = sorted(
        (j for j in jobs if j.status.scored and j.final_objective is not None),
        key=lambda j: (j.ended_at or j.created_at, j.number),
    )
    losses = [spec.objective.type.loss(float(j.final_objective or 0.0)) for j in scored]
    return {"NumberOfTrainingJobsObjectiveNotImproving": jobs_not_improving(losses)}


def _overall_best(
    store: Store, spec: TuningJobSpec, own: list[TrainingJob]
) -> tuple[TrainingJob, TuningJobSpec] | None:
    """The best training job of this job and its (still stored) parents, with the spec it ran under."""
    candidates = [(j, spec) for j in own]
    for name in spec.warm_start.parents if spec.warm_start else []:
        try:
            parent = repo.get_tuning_job(store, name)
        except NotFoundError:
            continue
        parent_spec = TuningJobSpec.model_validate(parent.spec)
        candidates += [(j, parent_spec) for j in repo.list_training_jobs(store, parent.id)]
    best = best_training_job([j for j, _ in candidates], spec.objective.type)
    return next(((j, s) for j, s in candidates if j is best), None)
