"""The REST API under ``/api/v1``: tuning jobs and their training jobs, with SageMaker's names in bodies.

Each route is a thin layer over the function the matching CLI command calls (``controller.service``
through ``Runs``, ``analytics``, ``viz``), so both faces answer the same and fail with the same sentence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel

from modeltune.analytics import describe_tuning_job, training_job_summary
from modeltune.analytics.listing import TrainingJobOrder
from modeltune.analytics.logs import read_log
from modeltune.core import TuningJobStatus
from modeltune.errors import NotFoundError, SpecError
from modeltune.spec import TuningJobSpec, resolve_paths
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo
from modeltune.web import queries
from modeltune.web.problems import ERRORS, FieldError, ForbiddenError, validate_spec
from modeltune.web.runs import Runs

router = APIRouter(prefix="/api/v1", responses=ERRORS)
MaxResults = Annotated[int, Query(ge=1, le=1000, description="Page size (SageMaker's MaxResults).")]
NextToken = Annotated[str | None, Query(description="Where the previous page ended (its NextToken).")]
DEFAULT_PAGE = 100


class TuningJobPage(BaseModel):
    """A page of tuning jobs, newest first (SageMaker's ListHyperParameterTuningJobs)."""

    HyperParameterTuningJobSummaries: list[dict[str, Any]]
    NextToken: str | None = None


class TrainingJobPage(BaseModel):
    """A page of a tuning job's training jobs (SageMaker's ListTrainingJobsForHyperParameterTuningJob)."""

    TrainingJobSummaries: list[dict[str, Any]]
    NextToken: str | None = None


class JobState(BaseModel):
    """A tuning job's name and status after a request changed it."""

    HyperParameterTuningJobName: str
    HyperParameterTuningJobStatus: TuningJobStatus


class ResumeRequest(BaseModel):
    """How to resume: optionally a larger training-job budget."""

    MaxNumberOfTrainingJobs: int | None = None


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runs(request: Request) -> Runs:
    runs: Runs = request.app.state.runs
    return runs


def _start(next_token: str | None) -> int:
    """The position a NextToken stands for."""
    if next_token and not (next_token.isdigit() and len(next_token) < 19):
        raise SpecError(f"NextToken {next_token[:40]!r} is not one this server gave; pass a page's NextToken")
    return int(next_token or 0)


def _page(items: list[Any], max_results: int, next_token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` from the position ``next_token`` holds, and the token of the next page."""
    start = 0
    if next_token:
        if not next_token.isdigit():
            raise SpecError(
                f"NextToken {next_token[:40]!r} is not one this server gave out; pass the NextToken of a page"
            )
        start = int(next_token)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


@router.get("/tuning-jobs", response_model=TuningJobPage)
def list_tuning_jobs(
    request: Request,
    status: Annotated[TuningJobStatus | None, Query(description="Only tuning jobs in this status.")] = None,
    name_prefix: Annotated[str | None, Query(description="Only tuning jobs whose name starts with this.")] = None,
    max_results: MaxResults = DEFAULT_PAGE,
    next_token: NextToken = None,
) -> TuningJobPage:
    """The tuning jobs, newest first, with their progress (``modeltune list``)."""
    store = _store(request)
    jobs = [
        j
        for j in repo.list_tuning_jobs(store)
        if (status is None or j.status == status) and j.name.startswith(name_prefix or "")
    ]
    page, token = _page(jobs, max_results, next_token)
    summaries = [queries.overview(store, j).summary.as_dict() for j in page]
    return TuningJobPage(HyperParameterTuningJobSummaries=summaries, NextToken=token)


@router.post("/tuning-jobs", status_code=201, response_model=dict[str, Any])
def create_tuning_job(
    request: Request,
    spec: Annotated[dict[str, Any], Body(description="The spec, as in a spec file (JSON).")],
) -> dict[str, Any]:
    """Validate the spec as ``modeltune run`` does, store the tuning job and start its controller.

    A relative ``training.source_dir`` is taken relative to the server's working folder.
    """
    checked = validate_spec(spec)
    checked = TuningJobSpec.model_validate(resolve_paths(checked.model_dump(mode="json"), Path.cwd()))
    try:
        job = _runs(request).create(checked)
    except NotFoundError as exc:  # a warm-start parent: the body names it, so it is the body that is wrong
        raise FieldError(str(exc), ["body", "warm_start", "parents"]) from None
    return describe_tuning_job(_store(request), job.name)


@router.get("/tuning-jobs/{name}", response_model=dict[str, Any])
def describe(request: Request, name: str) -> dict[str, Any]:
    """Status, counters, best and overall best training job, stop reason (``modeltune describe``)."""
    return describe_tuning_job(_store(request), name)


@router.delete("/tuning-jobs/{name}", status_code=204, response_class=Response)
def delete(request: Request, name: str) -> Response:
    """Delete an ended tuning job with its logs and models (``modeltune delete``); X-Warning names models left."""
    from modeltune.controller import service

    left = service.delete(_store(request), name)
    return Response(status_code=204, headers={"X-Warning": _latin1(left)} if left else None)


def _latin1(text: str) -> str:
    """``text`` as an HTTP header value can carry it (latin-1; other characters become '?')."""
    return text.encode("latin-1", "replace").decode("latin-1")


@router.post("/tuning-jobs/{name}/stop", response_model=JobState)
def stop(request: Request, name: str) -> JobState:
    """Ask a running tuning job to stop; its training jobs get SIGTERM, then SIGKILL after the grace period."""
    job = _runs(request).stop(name)
    return JobState(HyperParameterTuningJobName=job.name, HyperParameterTuningJobStatus=job.status)


@router.post("/tuning-jobs/{name}/resume", response_model=JobState)
def resume(request: Request, name: str, body: ResumeRequest | None = None) -> JobState:
    """Continue an ended or interrupted tuning job (same spec and seed), optionally with a larger budget."""
    job = _runs(request).resume(name, body.MaxNumberOfTrainingJobs if body else None)
    return JobState(HyperParameterTuningJobName=job.name, HyperParameterTuningJobStatus=job.status)


@router.get("/tuning-jobs/{name}/spec", response_model=dict[str, Any])
def spec(request: Request, name: str) -> dict[str, Any]:
    """The tuning job's spec, ready to edit and create a new job from (``modeltune spec``)."""
    stored = repo.get_tuning_job(_store(request), name).spec
    return TuningJobSpec.model_validate(stored).model_dump(mode="json")


@router.get("/tuning-jobs/{name}/training-jobs", response_model=TrainingJobPage)
def list_training_jobs(
    request: Request,
    name: str,
    sort_by: Annotated[TrainingJobOrder, Query(description="objective (best first), number or time.")] = "number",
    max_results: MaxResults = DEFAULT_PAGE,
    next_token: NextToken = None,
) -> TrainingJobPage:
    """The tuning job's training jobs with hyperparameters, status and objective (``modeltune training-jobs``)."""
    store = _store(request)
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    start = _start(next_token)
    page, total = queries.training_job_page(store, job, spec, sort_by, start, max_results)
    curves = repo.metric_values(store, [j.id for j in page], spec.objective.metric)
    summaries = [{"TrainingJobNumber": j.number, **training_job_summary(j, spec, curves[j.id])} for j in page]
    token = str(start + max_results) if start + max_results < total else None
    return TrainingJobPage(TrainingJobSummaries=summaries, NextToken=token)


def _training_job(store: Store, name: str, training_job: str) -> tuple[TuningJobSpec, TrainingJob]:
    tuning_job = repo.get_tuning_job(store, name)
    return TuningJobSpec.model_validate(tuning_job.spec), repo.get_training_job(store, tuning_job, training_job)


@router.get("/tuning-jobs/{name}/training-jobs/{training_job}", response_model=dict[str, Any])
def describe_training_job(request: Request, name: str, training_job: str) -> dict[str, Any]:
    """One training job (by name or number) with every metric it emitted, as series of steps and values."""
    spec, record = _training_job(_store(request), name, training_job)
    values = repo.metric_values(_store(request), [record.id]).get(record.id, [])
    series: dict[str, list[dict[str, Any]]] = {}
    for v in values:
        series.setdefault(v.name, []).append({"Step": v.step, "Value": v.value, "Timestamp": v.timestamp.isoformat()})
    curve = [v for v in values if v.name == spec.objective.metric]
    return {"TrainingJobNumber": record.number, **training_job_summary(record, spec, curve), "MetricSeries": series}


def checked_log(store: Store, record: TrainingJob, offset: int) -> tuple[str, int]:
    """``read_log``, refused for a log file outside this store's jobs folder."""
    path = Path(record.log_path)
    if path.exists() and not path.resolve().is_relative_to(store.jobs_folder().resolve()):
        raise ForbiddenError(f"the log of training job {record.name!r} lies outside the store's folders")
    return read_log(store, record, offset)


@router.get(
    "/tuning-jobs/{name}/training-jobs/{training_job}/log",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The log text; X-Log-Offset continues it."}},
)
def log(
    request: Request,
    name: str,
    training_job: str,
    tail: Annotated[int | None, Query(ge=1, le=100_000, description="Only the last lines.")] = None,
    offset: Annotated[int, Query(ge=0, le=2**62, description="Byte offset to read from.")] = 0,
) -> Response:
    """A training job's log (stdout and stderr) from ``offset``, or its last ``tail`` lines."""
    _, record = _training_job(_store(request), name, training_job)
    text, end = checked_log(_store(request), record, offset)
    if tail is not None:
        text = "".join(text.splitlines(keepends=True)[-tail:])
    return Response(text, media_type="text/plain; charset=utf-8", headers={"X-Log-Offset": str(end)})


@router.get(
    "/tuning-jobs/{name}/analytics",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}, "description": "One row per training job."}},
)
def analytics(request: Request, name: str, format: Annotated[Literal["csv", "json"], Query()] = "json") -> Response:
    """The analytics table (``modeltune export``): SageMaker's columns, one row per training job."""
    from modeltune.analytics.dataframe import trials_dataframe

    frame = trials_dataframe(_store(request), name)
    if format == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8")
    body = frame.to_json(orient="records", date_format="iso", double_precision=15)
    return Response(body, media_type="application/json")


@router.get("/tuning-jobs/{name}/charts", response_model=dict[str, Any])
def charts(
    request: Request,
    name: str,
    advanced: bool = False,
    trials_only: bool = False,
    parents: Annotated[bool, Query(description="Draw a warm-started job's parents too.")] = True,
) -> dict[str, Any]:
    """The charts of ``modeltune plot`` as one Vega-Lite spec (render it with vega-embed)."""
    return _charts(_store(request), [name], advanced, trials_only, parents)


@router.get("/compare", response_model=list[dict[str, Any]])
def compare(request: Request, jobs: Annotated[list[str], Query(min_length=1, max_length=20)]) -> list[dict[str, Any]]:
    """One row per tuning job: best value, training jobs to reach it, elapsed time, counts by status."""
    from modeltune.analytics import compare as compare_jobs

    frame = compare_jobs(_store(request), jobs)
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


@router.get("/compare/charts", response_model=dict[str, Any])
def compare_charts(
    request: Request,
    jobs: Annotated[list[str], Query(min_length=1, max_length=20)],
    trials_only: bool = True,
) -> dict[str, Any]:
    """Several tuning jobs in one set of charts (amtviz's combined "trials only" view by default)."""
    return _charts(_store(request), jobs, False, trials_only, False)


def _charts(store: Store, jobs: list[str], advanced: bool, trials_only: bool, parents: bool) -> dict[str, Any]:
    from modeltune.viz import visualize_tuning_job

    chart = visualize_tuning_job(jobs, advanced=advanced, trials_only=trials_only, store=store, include_parents=parents)
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec
