"""A tuning job described with SageMaker's DescribeHyperParameterTuningJob field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modeltune.analytics.listing import interrupted
from modeltune.core import MetricValue, TrainingJobStatus, TuningJobStatus, best_training_job, jobs_not_improving
from modeltune.errors import NotFoundError
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, aggregates
from modeltune.store import repository as repo


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


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
    counts = aggregates.training_job_counts(store, [job.id])[job.id]
    best = aggregates.best_training_job(store, job.id, spec.objective.type)
    failed = counts[TrainingJobStatus.FAILED]
    ended = [job.created_at, *[t for t in (counts.last_ended_at, job.ended_at) if t]]
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
            "Completed": counts[TrainingJobStatus.COMPLETED],
            "InProgress": counts.running,
            "RetryableError": counts.retryable_failures,
            "NonRetryableError": failed - counts.retryable_failures,
            "Stopped": counts[TrainingJobStatus.STOPPED],
        },
        "ObjectiveStatusCounters": {
            "Succeeded": counts.with_objective,
            "Pending": counts.running,
            "Failed": counts.ended - counts.with_objective,
        },
        "BestTrainingJob": training_job_summary(best, spec) if best else None,
        "CreationTime": _iso(job.created_at),
        "HyperParameterTuningEndTime": _iso(job.ended_at),
        "LastModifiedTime": _iso(max(ended)),
        "ElapsedSeconds": job.active_seconds,
        "TuningJobCompletionCriteria": _criteria(spec),
        "TuningJobCompletionDetails": job.completion_details or _completion_details(store, job.id, spec),
    }
    if spec.warm_start:
        description["WarmStartConfig"] = {
            "WarmStartType": spec.warm_start.type,
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in spec.warm_start.parents],
        }
        if spec.warm_start.type == "IdenticalDataAndAlgorithm":
            overall = _overall_best(store, spec, best)
            description["OverallBestTrainingJob"] = training_job_summary(*overall) if overall else None
    if job.status_reason:
        description["FailureReason" if job.status == TuningJobStatus.FAILED else "StatusReason"] = job.status_reason
    if interrupted(job, spec):
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


def _completion_details(store: Store, job_id: int, spec: TuningJobSpec) -> dict[str, Any]:
    """How many training jobs have ended since the best objective last improved (while the job runs)."""
    losses = [spec.objective.type.loss(value) for value in aggregates.scored_objectives(store, job_id)]
    return {"NumberOfTrainingJobsObjectiveNotImproving": jobs_not_improving(losses)}


def _overall_best(
    store: Store, spec: TuningJobSpec, own: TrainingJob | None
) -> tuple[TrainingJob, TuningJobSpec] | None:
    """The best training job of this job and its (still stored) parents, with the spec it ran under."""
    candidates = [(own, spec)] if own else []
    for name in spec.warm_start.parents if spec.warm_start else []:
        try:
            parent = repo.get_tuning_job(store, name)
        except NotFoundError:
            continue
        parent_spec = TuningJobSpec.model_validate(parent.spec)
        parent_best = aggregates.best_training_job(store, parent.id, spec.objective.type)
        candidates += [(parent_best, parent_spec)] if parent_best else []
    best = best_training_job([j for j, _ in candidates], spec.objective.type)
    return next(((j, s) for j, s in candidates if j is best), None)
