"""The ``modeltune`` command line: run, inspect and stop tuning jobs."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from modeltune.cli_options import DetachOption, JobArgument, JsonOption, StoreOption
from modeltune.cli_reports import register as register_report_commands
from modeltune.errors import ModeltuneError

app = typer.Typer(
    name="modeltune",
    help="Self-hosted automatic model tuning: run tuning jobs of your own training script, inspect them, stop them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# Piped output (files, scripts) gets room for wide tables unless COLUMNS says otherwise.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
errors = Console(stderr=True, soft_wrap=True)


def _store(url: str | None) -> Any:
    from modeltune.store import Store

    return Store(url)


@app.command()
def run(
    spec_file: Annotated[Path, typer.Argument(help="Spec file (YAML or JSON).", show_default=False)],
    name: Annotated[str | None, typer.Option(help="Tuning job name, replacing the spec's.")] = None,
    strategy: Annotated[str | None, typer.Option(help="Grid, Random or Bayesian.")] = None,
    max_jobs: Annotated[int | None, typer.Option(help="Training-job budget, replacing the spec's.")] = None,
    max_parallel_jobs: Annotated[int | None, typer.Option(help="Training jobs at once.")] = None,
    warm_start_from: Annotated[
        str | None, typer.Option(help="Comma-separated parent tuning jobs to warm-start from (at most 5).")
    ] = None,
    warm_start_type: Annotated[
        str, typer.Option(help="IdenticalDataAndAlgorithm or TransferLearning (with --warm-start-from).")
    ] = "IdenticalDataAndAlgorithm",
    detach: DetachOption = False,
    store: StoreOption = None,
) -> None:
    """Start a tuning job from a spec file and follow it with a progress bar.

    Ctrl-C stops it gracefully (running training jobs get SIGTERM, then SIGKILL
    after the grace period); a second Ctrl-C kills them at once.
    """
    from modeltune.controller import service
    from modeltune.spec import parse_spec, read_spec_file

    data = read_spec_file(spec_file)
    if name:
        data["name"] = name
    if strategy:
        data["strategy"] = strategy
    limits = dict(data.get("limits") or {})
    limits.update({k: v for k, v in (("max_jobs", max_jobs), ("max_parallel_jobs", max_parallel_jobs)) if v})
    if limits:
        data["limits"] = limits
    if warm_start_from:
        parents = [p.strip() for p in warm_start_from.split(",") if p.strip()]
        data["warm_start"] = {"type": warm_start_type, "parents": parents}
    spec = parse_spec(data, spec_file.name)
    the_store = _store(store)
    job = service.submit(the_store, spec)
    _start(the_store, job.name, detach)


def _start(store: Any, name: str, detach: bool) -> None:
    from modeltune.controller import service

    if detach:
        pid = service.start_detached(store, name)
        console.print(f"Started tuning job [bold]{name}[/] in the background (pid {pid}).")
        console.print(f"Follow it with: modeltune describe {name}")
        return
    _run_in_foreground(store, name)


def _run_in_foreground(store: Any, name: str) -> None:
    from modeltune.cli_views import ProgressView, print_best
    from modeltune.controller.loop import Controller

    view = ProgressView(console, name)
    controller = Controller(store, name, on_progress=view.update)
    presses = 0

    def on_interrupt(_signum: int, _frame: Any) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            errors.print("Stopping: running training jobs get SIGTERM (Ctrl-C again to kill them now)...")
            controller.request_stop()
        else:
            for training_job in controller.executor.running():
                controller.executor.stop(training_job, 0)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with view:
            job = controller.run()
        if not console.is_terminal:
            console.print()
    finally:
        signal.signal(signal.SIGINT, previous)
    print_best(console, store, job.name)
    if job.status == "Failed":
        raise typer.Exit(1)


@app.command("list")
def list_jobs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the tuning jobs in the store, newest first."""
    from modeltune.cli_views import jobs_table
    from modeltune.controller.progress import Progress
    from modeltune.spec import TuningJobSpec
    from modeltune.store import repository as repo

    the_store = _store(store)
    rows = []
    for job in repo.list_tuning_jobs(the_store):
        spec = TuningJobSpec.model_validate(job.spec)
        progress = Progress.of(job, spec, repo.list_training_jobs(the_store, job.id))
        rows.append((job, spec, progress))
    if as_json:
        _print_json(
            [
                {
                    "HyperParameterTuningJobName": j.name,
                    "HyperParameterTuningJobStatus": j.status,
                    "Strategy": s.strategy,
                    "CreationTime": j.created_at.isoformat() + "Z",
                    "TrainingJobsDone": p.done,
                    "MaxNumberOfTrainingJobs": p.total,
                    "BestObjectiveValue": p.best_value,
                }
                for j, s, p in rows
            ]
        )
        return
    if not rows:
        console.print("No tuning jobs yet. Start one with: modeltune run SPEC_FILE")
        return
    console.print(jobs_table(rows))


@app.command()
def describe(job: JobArgument, store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Show a tuning job: status, counts by training-job status, objective, best training job, timings."""
    from modeltune.analytics import describe_tuning_job
    from modeltune.cli_views import print_description

    description = describe_tuning_job(_store(store), job)
    if as_json:
        _print_json(description)
    else:
        print_description(console, description)


@app.command("training-jobs")
def training_jobs(
    job: JobArgument,
    sort: Annotated[str, typer.Option(help="Order: objective (best first), number or time.")] = "number",
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a tuning job's training jobs with their hyperparameters, status and objective."""
    from modeltune.analytics import training_job_summary
    from modeltune.cli_views import training_jobs_table
    from modeltune.errors import SpecError
    from modeltune.spec import TuningJobSpec
    from modeltune.store import repository as repo

    if sort not in ("objective", "number", "time"):
        raise SpecError(f"--sort must be objective, number or time, not {sort!r}")
    the_store = _store(store)
    tuning_job = repo.get_tuning_job(the_store, job)
    spec = TuningJobSpec.model_validate(tuning_job.spec)
    jobs = repo.list_training_jobs(the_store, tuning_job.id)
    values = repo.metric_values(the_store, [j.id for j in jobs])
    curves = {tid: [v for v in vs if v.name == spec.objective.metric] for tid, vs in values.items()}
    if sort == "objective":
        sign = -1.0 if spec.objective.type == "Maximize" else 1.0
        jobs.sort(key=lambda j: (j.final_objective is None, sign * (j.final_objective or 0.0), j.number))
    elif sort == "time":
        jobs.sort(key=lambda j: (j.started_at is None, j.started_at or j.created_at, j.number))
    if as_json:
        _print_json([training_job_summary(j, spec, curves[j.id]) for j in jobs])
    else:
        console.print(training_jobs_table(spec, jobs, curves))
        for j in jobs:
            if j.status_reason:
                console.print(f"{j.name}: {j.status_reason}", markup=False, highlight=False)


@app.command()
def logs(
    job: JobArgument,
    training_job: Annotated[str, typer.Argument(help="Training job name or number.", show_default=False)],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until it ends.")] = False,
    store: StoreOption = None,
) -> None:
    """Print a training job's log (stdout and stderr)."""
    from modeltune.store import TERMINAL_TRAINING_STATUSES
    from modeltune.store import repository as repo

    the_store = _store(store)
    tuning_job = repo.get_tuning_job(the_store, job)
    record = repo.get_training_job(the_store, tuning_job, training_job)
    path = Path(record.log_path)
    offset = 0
    while True:
        if path.exists():
            with open(path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            offset += len(chunk)
            sys.stdout.write(chunk.decode("utf-8", "replace"))
            sys.stdout.flush()
        if not follow:
            return
        record = repo.get_training_job(the_store, tuning_job, record.name)
        if record.status in TERMINAL_TRAINING_STATUSES and path.exists() and path.stat().st_size == offset:
            return
        time.sleep(0.5)


@app.command()
def stop(
    job: JobArgument,
    wait: Annotated[bool, typer.Option(help="Wait until the job is Stopped.")] = True,
    store: StoreOption = None,
) -> None:
    """Stop a running tuning job: its training jobs get SIGTERM, then SIGKILL after the grace period."""
    from modeltune.controller import service
    from modeltune.store import repository as repo

    the_store = _store(store)
    state = service.stop(the_store, job)
    console.print(f"Tuning job {job} is {state.status}.")
    while wait and not state.terminal:
        time.sleep(0.5)
        state = repo.get_tuning_job(the_store, job)
    if wait:
        console.print(f"Tuning job {job} is {state.status}.")


@app.command()
def resume(
    job: JobArgument,
    max_jobs: Annotated[int | None, typer.Option(help="New training-job budget (must exceed those run).")] = None,
    detach: DetachOption = False,
    store: StoreOption = None,
) -> None:
    """Continue an ended or interrupted tuning job: same spec and seed, its history continues."""
    from modeltune.controller import service

    the_store = _store(store)
    service.resume(the_store, job, max_jobs)
    _start(the_store, job, detach)


@app.command("spec")
def show_spec(job: JobArgument, store: StoreOption = None) -> None:
    """Print a tuning job's spec as YAML, ready to edit and pass to 'modeltune run'."""
    import yaml

    from modeltune.spec import TuningJobSpec
    from modeltune.store import repository as repo

    stored = repo.get_tuning_job(_store(store), job).spec
    spec = TuningJobSpec.model_validate(stored).model_dump(mode="json")
    sys.stdout.write(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))


@app.command()
def delete(
    job: JobArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    store: StoreOption = None,
) -> None:
    """Delete an ended tuning job, its training jobs' records, logs and model folders."""
    from modeltune.controller import service

    if not yes and not typer.confirm(f"Delete tuning job {job} with its logs and models?"):
        raise typer.Abort()
    service.delete(_store(store), job)
    console.print(f"Deleted tuning job {job}.")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


register_report_commands(app)
__import__("modeltune.cli_serving").cli_serving.register(app)


def main() -> None:
    """Entry point: user mistakes end with one line on stderr and exit code 2, never a traceback.

    Usage errors (unknown command or option, missing argument) are reported by the command-line
    parser itself, with the usage hint and exit code 2.
    """
    try:
        app()
    except ModeltuneError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
