"""Commands that start, stop, resume and delete tuning jobs."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modeltune.cli.common import (
    DetachOption,
    JobArgument,
    StoreOption,
    console,
    errors,
    open_store,
    server_client,
)

if TYPE_CHECKING:
    from modeltune.store import Store


def run(
    spec_file: Annotated[
        Path | None,
        typer.Argument(metavar="SPEC_FILE", help="Spec file (YAML or JSON).", show_default=False),
    ] = None,
    sagemaker: Annotated[
        Path | None, typer.Option(help="A SageMaker CreateHyperParameterTuningJob request (JSON), instead of a spec.")
    ] = None,
    cloudml: Annotated[
        Path | None, typer.Option(help="A Cloud ML hptuning_config.yaml (trainingInput.hyperparameters).")
    ] = None,
    vertex: Annotated[
        Path | None, typer.Option(help="A Vertex AI HyperparameterTuningJob / StudySpec YAML or JSON.")
    ] = None,
    command: Annotated[
        str | None, typer.Option(help="The local training command, with --sagemaker, --cloudml or --vertex.")
    ] = None,
    source_dir: Annotated[
        Path | None, typer.Option(help="Folder the command runs in (default: the current one), with a request file.")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="A data channel's local folder, NAME=DIR (repeat per channel).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Tuning job name, replacing the spec's.")] = None,
    strategy: Annotated[str | None, typer.Option(help="Grid, Random, Bayesian or Hyperband.")] = None,
    max_jobs: Annotated[int | None, typer.Option(help="Training-job budget, replacing the spec's.")] = None,
    max_parallel_jobs: Annotated[int | None, typer.Option(help="Training jobs at once.")] = None,
    warm_start_from: Annotated[
        str | None, typer.Option(help="Comma-separated parent tuning jobs to warm-start from (at most 5).")
    ] = None,
    warm_start_type: Annotated[
        str, typer.Option(help="IdenticalDataAndAlgorithm or TransferLearning (with --warm-start-from).")
    ] = "IdenticalDataAndAlgorithm",
    mlflow: Annotated[
        str | None, typer.Option(help="Record every training job as a run on this MLflow tracking server.")
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(help="Where training jobs run: local (processes here, the default), workers or ray."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="With --executor ray: the cluster (auto, ray://host:10001, host:port).")
    ] = None,
    detach: DetachOption = False,
    store: StoreOption = None,
) -> None:
    """Start a tuning job from a spec file and follow it with a progress bar.

    Ctrl-C stops it gracefully (running training jobs get SIGTERM, then SIGKILL
    after the grace period); a second Ctrl-C kills them at once.
    """
    from modeltune.controller import service
    from modeltune.errors import ModeltuneError
    from modeltune.spec import parse_spec, read_spec_file

    foreign = {"sagemaker": sagemaker, "cloudml": cloudml, "vertex": vertex}
    given = {form: path for form, path in foreign.items() if path is not None}
    if not given and spec_file is None:
        raise _MissingSpec("SPEC_FILE")
    if len(given) + (spec_file is not None) != 1:
        raise ModeltuneError("give exactly one of SPEC_FILE, --sagemaker, --cloudml or --vertex")
    if spec_file is not None:
        if command is not None or source_dir is not None or channel:
            raise ModeltuneError(
                "--command, --source-dir and --channel go with --sagemaker, --cloudml or --vertex; "
                "a spec file gives them in its training section"
            )
        data = read_spec_file(spec_file)
        source = spec_file.name
    else:
        from modeltune.formats import load_foreign

        ((form, path),) = given.items()

        def previous(job: str) -> dict[str, Any]:
            from modeltune.store import repository as repo

            client = server_client()
            return client.spec(job) if client else repo.get_tuning_job(open_store(store), job).spec

        imported = load_foreign(form, path, command, source_dir, channel or [], name, previous)
        if imported.warning:
            errors.print(f"warning: {imported.warning}", markup=False, highlight=False)
        data, source = imported.spec.model_dump(mode="json"), path.name
    if name:
        data["name"] = name
    if strategy:
        data["strategy"] = strategy
    if executor:
        data["executor"] = executor
    if ray_address:
        data["ray_address"] = ray_address
    if mlflow:
        data["integrations"] = {**(data.get("integrations") or {}), "mlflow": {"tracking_uri": mlflow}}
    overrides = {k: v for k, v in (("max_jobs", max_jobs), ("max_parallel_jobs", max_parallel_jobs)) if v}
    limits = data.get("limits") or {}
    if overrides and isinstance(limits, dict):  # otherwise validation names what is wrong with limits
        data["limits"] = {**limits, **overrides}
    if warm_start_from:
        parents = [p.strip() for p in warm_start_from.split(",") if p.strip()]
        data["warm_start"] = {"type": warm_start_type, "parents": parents}
    client = server_client()
    if client:  # the server validates the spec, stores the job and runs its controller
        created = client.create(data)["HyperParameterTuningJobName"]
        console.print(f"Started tuning job {created} on {client.url}.", markup=False, highlight=False)
        _print_follow_hint(created)
        return
    spec = parse_spec(data, source)
    the_store = open_store(store)
    job = service.submit(the_store, spec)
    _start(the_store, job.name, detach)


class _MissingSpec(typer.BadParameter):
    """No spec file and no request file: a usage error, shown with the usage hint like other missing arguments."""

    def format_message(self) -> str:
        return "Missing argument 'SPEC_FILE' (or give a request file with --sagemaker, --cloudml or --vertex)."


def _start(store: Store, name: str, detach: bool) -> None:
    from modeltune.controller import service

    if detach:
        pid = service.start_detached(store, name)
        console.print(f"Started tuning job [bold]{name}[/] in the background (pid {pid}).")
        _print_follow_hint(name)
        return
    _run_in_foreground(store, name)


def _print_follow_hint(name: str) -> None:
    console.print(f"Follow it with: modeltune describe {name}", markup=False, highlight=False)


def _run_in_foreground(store: Store, name: str) -> None:
    from modeltune.cli.views import print_best
    from modeltune.controller.loop import Controller
    from modeltune.core import TuningJobStatus
    from modeltune.terminal import ProgressView

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
            controller.kill_all()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with view:
            job = controller.run()
        if not console.is_terminal:
            console.print()
    finally:
        signal.signal(signal.SIGINT, previous)
    print_best(console, store, job.name)
    if presses:  # stopped by Ctrl-C: exit as an interrupted command does
        raise typer.Exit(130)
    if job.status == TuningJobStatus.FAILED:
        raise typer.Exit(1)


def stop(
    job: JobArgument,
    wait: Annotated[bool, typer.Option(help="Wait until the job is Stopped.")] = True,
    store: StoreOption = None,
) -> None:
    """Stop a running tuning job: its training jobs get SIGTERM, then SIGKILL after the grace period."""
    from modeltune.controller import service
    from modeltune.core import TuningJobStatus
    from modeltune.store import repository as repo

    client = server_client()
    if client:
        status = TuningJobStatus(client.stop(job))

        def current() -> TuningJobStatus:
            return TuningJobStatus(client.describe(job)["HyperParameterTuningJobStatus"])
    else:
        the_store = open_store(store)
        status = service.stop(the_store, job).status

        def current() -> TuningJobStatus:
            return repo.get_tuning_job(the_store, job).status

    console.print(f"Tuning job {job} is {status}.")
    if not wait or status.terminal:
        return
    while not status.terminal:
        time.sleep(0.5)
        status = current()
    console.print(f"Tuning job {job} is {status}.")


def resume(
    job: JobArgument,
    max_jobs: Annotated[int | None, typer.Option(help="New training-job budget (must exceed those run).")] = None,
    detach: DetachOption = False,
    store: StoreOption = None,
) -> None:
    """Continue an ended or interrupted tuning job: same spec and seed, its history continues."""
    from modeltune.controller import service

    client = server_client()
    if client:  # the server runs the controller: detached by nature
        console.print(f"Tuning job {job} is {client.resume(job, max_jobs)} on {client.url}.", markup=False)
        _print_follow_hint(job)
        return
    the_store = open_store(store)
    service.resume(the_store, job, max_jobs)
    _start(the_store, job, detach)


def show_spec(
    job: JobArgument,
    output_format: Annotated[
        str, typer.Option("--format", help="native (YAML), sagemaker (request JSON), cloudml or vertex (YAML).")
    ] = "native",
    store: StoreOption = None,
) -> None:
    """Print a tuning job's spec, ready to edit and pass to 'modeltune run' (or its --sagemaker/--cloudml/--vertex)."""
    import yaml

    from modeltune.spec import TuningJobSpec
    from modeltune.store import repository as repo

    client = server_client()
    stored = client.spec(job) if client else repo.get_tuning_job(open_store(store), job).spec
    spec = TuningJobSpec.model_validate(stored)
    if output_format == "native":
        sys.stdout.write(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        return
    from modeltune.formats import export_foreign

    text, warning = export_foreign(output_format, spec)
    if warning:
        errors.print(f"warning: {warning}", markup=False, highlight=False)
    sys.stdout.write(text)


def delete(
    job: JobArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    store: StoreOption = None,
) -> None:
    """Delete an ended tuning job, its training jobs' records, logs and model folders."""
    from modeltune.controller import service
    from modeltune.errors import ModeltuneError

    if not yes:
        if not sys.stdin.isatty():
            raise ModeltuneError(
                f"delete asks before it removes tuning job {job!r}, and there is no terminal to ask on; "
                "pass --yes to delete without asking"
            )
        if not typer.confirm(f"Delete tuning job {job} with its logs and models?"):
            console.print(f"Kept tuning job {job}.")
            raise typer.Exit(1)
    client = server_client()
    left = client.delete(job) if client else service.delete(open_store(store), job)
    if left:
        errors.print(f"warning: {left}", markup=False, highlight=False)
    console.print(f"Deleted tuning job {job}.")
