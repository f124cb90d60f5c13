"""Live updates as server-sent events: a tuning job's progress, and a training job's log as it grows.

Each stream reads the store about once a second in a worker thread and sends an event only when
something changed, so a page shows a training job that ended within about a second of the store
recording it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from modeltune.store import Store
from modeltune.store import repository as repo
from modeltune.web import queries
from modeltune.web.api import checked_log
from modeltune.web.problems import ERRORS

router = APIRouter(prefix="/api/v1", responses=ERRORS)
POLL_SECONDS = 1.0
_SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}
}


def progress_event(store: Store, name: str) -> dict[str, Any]:
    """What the console shows live of a tuning job: status, counters and progress."""
    seen = queries.overview(store, repo.get_tuning_job(store, name))
    return {
        "HyperParameterTuningJobName": seen.job.name,
        "HyperParameterTuningJobStatus": seen.job.status.value,
        "Counters": seen.counts,
        "TrainingJobsDone": seen.progress.done,
        "MaxNumberOfTrainingJobs": seen.progress.total,
        "BestObjectiveValue": seen.progress.best_value,
        "TrainingJobsEnded": seen.progress.done,
        "LastEnded": seen.last_ended.isoformat() if seen.last_ended else None,
        "Terminal": seen.job.terminal,
    }


def _format(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


async def _stream(request: Request, read: Callable[[], Any], done: Callable[[Any], bool]) -> AsyncIterator[str]:
    """Send ``read()`` whenever it changes until ``done`` says the subject ended or the client left."""
    last: Any = None
    while not await request.is_disconnected():
        current = await run_in_threadpool(read)
        if current != last:
            yield _format("update", current)
            last = current
        if done(current):
            yield _format("end", {})
            return
        await asyncio.sleep(POLL_SECONDS)


def _sse(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/tuning-jobs/{name}/events", response_class=StreamingResponse, responses=_SSE)
def tuning_job_events(request: Request, name: str) -> StreamingResponse:
    """``update`` events with the job's progress whenever it changes, then ``end`` once the job ended."""
    store: Store = request.app.state.store
    progress_event(store, name)  # a missing job is a 404 now, not an empty stream
    return _sse(_stream(request, lambda: progress_event(store, name), lambda e: bool(e["Terminal"])))


@router.get(
    "/tuning-jobs/{name}/training-jobs/{training_job}/log/events",
    response_class=StreamingResponse,
    responses=_SSE,
)
def log_events(request: Request, name: str, training_job: str) -> StreamingResponse:
    """The log as ``update`` events (``{"text": ...}``, new text each time), then ``end`` once the job ended."""
    store: Store = request.app.state.store
    tuning_job = repo.get_tuning_job(store, name)
    record = repo.get_training_job(store, tuning_job, training_job)
    checked_log(store, record, 0)
    offset = 0

    def read() -> dict[str, Any]:
        nonlocal offset
        current = repo.get_training_job(store, tuning_job, record.name)
        text, offset = checked_log(store, current, offset)
        return {"text": text, "offset": offset, "ended": current.status.terminal and not text}

    return _sse(_stream(request, read, lambda e: bool(e["ended"])))
