"""The console's pages, rendered on the server (Jinja2, everything escaped); ``static/console.js`` makes them live."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from modeltune.errors import ModeltuneError, SpecError
from modeltune.spec import TuningJobSpec, resolve_paths
from modeltune.spec.documents import parse_text
from modeltune.store import Store
from modeltune.store import repository as repo
from modeltune.web import queries
from modeltune.web.assets import vega_bundle
from modeltune.web.problems import validate_spec
from modeltune.web.runs import Runs
from modeltune.web.security import COOKIE, session_value

HERE = Path(__file__).parent
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
router = APIRouter(include_in_schema=False)
WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")


def mount_static(app: FastAPI) -> None:
    """Serve ``static/`` (the console's script and style) under ``/static``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("/static-bundle/vega-embed.js")
def vega_script() -> Response:
    """vega + vega-lite + vega-embed, bundled on this machine by vl-convert (no CDN)."""
    script = vega_bundle()
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse)
def jobs_page(request: Request) -> HTMLResponse:
    """Every tuning job with its status and progress, updated live."""
    store = _store(request)
    return _page(
        request, "jobs.html", summaries=[queries.overview(store, j).summary for j in repo.list_tuning_jobs(store)]
    )


@router.get("/jobs/{name}", response_class=HTMLResponse)
def job_page(request: Request, name: str) -> HTMLResponse:
    """One tuning job: status, best training job, charts, training jobs, a stop button; updated live."""
    try:
        seen = queries.overview(_store(request), repo.get_tuning_job(_store(request), name))
    except ModeltuneError as exc:
        return _page(request, "error.html", status_code=404, message=str(exc))
    return _page(request, "job.html", name=name, o=seen)


@router.get("/jobs/{name}/training-jobs/{training_job}", response_class=HTMLResponse)
def training_job_page(request: Request, name: str, training_job: str) -> HTMLResponse:
    """One training job: hyperparameters, learning curve and its log as it grows."""
    store = _store(request)
    try:
        record = repo.get_training_job(store, repo.get_tuning_job(store, name), training_job)
    except ModeltuneError as exc:
        return _page(request, "error.html", status_code=404, message=str(exc))
    return _page(request, "training_job.html", name=name, t=record)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, jobs: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
    """Several tuning jobs side by side: a summary table and one set of charts (the charts load afterwards)."""
    store = _store(request)
    names = [n for n in jobs or [] if n]
    rows: list[dict[str, Any]] = []
    message = None
    try:
        for name in names:
            seen = queries.overview(store, repo.get_tuning_job(store, name))
            rows.append({**seen.summary.as_dict(), **seen.counts, "BestTrainingJob": seen.progress.best_name})
    except ModeltuneError as exc:
        message = str(exc)
    all_names = [j.name for j in repo.list_tuning_jobs(store)]
    return _page(request, "compare.html", names=names, rows=rows, all_names=all_names, message=message)


def _copied_spec(store: Store, source: str) -> tuple[str, str]:
    """The spec of ``source`` as YAML under a new free name, and that name."""
    spec = TuningJobSpec.model_validate(repo.get_tuning_job(store, source).spec).model_dump(mode="json")
    taken = {j.name for j in repo.list_tuning_jobs(store)}
    stem = source[:58]
    name = next(f"{stem}-{i}" for i in range(2, 10_000) if f"{stem}-{i}" not in taken)
    spec["name"] = name
    spec.pop("warm_start", None)
    spec.pop("random_seed", None)
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), name


@router.get("/create", response_class=HTMLResponse)
def create_page(request: Request, source: Annotated[str | None, Query(alias="from")] = None) -> HTMLResponse:
    """Paste or upload a spec, or start from an existing job's settings, optionally as a warm start."""
    text, message = "", None
    if source:
        try:
            text, _ = _copied_spec(_store(request), source)
        except ModeltuneError as exc:
            message = str(exc)
    return _page(
        request, "create.html", text=text, source=source or "", message=message, types=WARM_START_TYPES, form={}
    )


@router.post("/create", response_class=HTMLResponse, response_model=None)
def create(
    request: Request,
    spec_text: Annotated[str, Form()] = "",
    warm_start: Annotated[bool, Form()] = False,
    warm_start_type: Annotated[str, Form()] = WARM_START_TYPES[0],
    parents: Annotated[str, Form()] = "",
) -> Response:
    """Validate the pasted spec as ``modeltune run`` does, then start the tuning job and show its page."""
    form = {"warm_start": warm_start, "warm_start_type": warm_start_type, "parents": parents}
    try:
        data = parse_text(spec_text, "spec", as_json=spec_text.lstrip().startswith("{"))
        if not isinstance(data, dict):
            raise SpecError("spec: the spec must be a mapping with name, training, objective and ranges")
        if warm_start:
            names = [p.strip() for p in parents.split(",") if p.strip()]
            data["warm_start"] = {"type": warm_start_type, "parents": names}
        spec = validate_spec(data)
        spec = TuningJobSpec.model_validate(resolve_paths(spec.model_dump(mode="json"), Path.cwd()))
        runs: Runs = request.app.state.runs
        job = runs.create(spec)
    except ModeltuneError as exc:
        return _page(
            request,
            "create.html",
            status_code=422,
            text=spec_text,
            source="",
            message=str(exc),
            types=WARM_START_TYPES,
            form=form,
        )
    return RedirectResponse(f"/jobs/{job.name}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """Ask for the server's token."""
    return _page(request, "login.html", next=next, message=None)


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    """Check the token; set the session cookie (HttpOnly, SameSite=Strict) and go where the user was headed."""
    expected: str | None = request.app.state.token
    if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
        return _page(request, "login.html", status_code=401, next=next, message="That token is not this server's.")
    local = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(local, status_code=303)
    response.set_cookie(
        COOKIE, session_value(expected), httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response
