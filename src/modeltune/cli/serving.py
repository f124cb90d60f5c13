"""The ``deploy`` and ``predict`` commands: serve a tuning job's model over HTTP, or predict a file of records.

The serving package (and with it the web server) loads inside the commands so that ``modeltune --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modeltune.cli.common import StoreOption, local_only
from modeltune.errors import ServingError

if TYPE_CHECKING:
    from modeltune.serving.locate import ModelLocation

JobToServe = Annotated[
    str | None,
    typer.Argument(
        help="Tuning job whose best training job's model to use (or none, with --model-dir).", show_default=False
    ),
]
TrainingJobOption = Annotated[
    str | None, typer.Option(help="A training job (name or number) instead of the best one.", show_default=False)
]
EntryPointOption = Annotated[
    str | None,
    typer.Option(
        envvar="SAGEMAKER_PROGRAM",
        help="Inference script with model_fn (default: the training script, if it defines model_fn).",
        show_default=False,
    ),
]
ModelDirOption = Annotated[
    Path | None,
    typer.Option(envvar="SM_MODEL_DIR", help="A model folder to use when no tuning job is named.", show_default=False),
]


def _location(
    job: str | None, training_job: str | None, entry_point: str | None, model_dir: Path | None, store: str | None
) -> ModelLocation:
    from modeltune.serving.locate import locate_folder, locate_training_job
    from modeltune.store import Store

    if job is not None:
        local_only("serving a tuning job's model")
        return locate_training_job(Store(store), job, training_job, entry_point)
    if training_job is not None:
        raise ServingError("--training-job names a training job of a tuning job; name the tuning job too")
    if model_dir is None:
        raise ServingError("name a tuning job to serve (modeltune deploy JOB), or a model folder with --model-dir")
    return locate_folder(model_dir, entry_point)


def deploy(
    job: JobToServe = None,
    training_job: TrainingJobOption = None,
    entry_point: EntryPointOption = None,
    model_dir: ModelDirOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="SAGEMAKER_BIND_TO_PORT", help="Port (0 picks a free one).", min=0)
    ] = 8080,
    workers: Annotated[
        int, typer.Option(envvar="SAGEMAKER_MODEL_SERVER_WORKERS", help="Server worker processes.", min=1)
    ] = 1,
    store: StoreOption = None,
) -> None:
    """Serve a model with SageMaker's inference contract: GET /ping and POST /invocations.

    The model folder is the training job's model/ folder (a lone model.tar.gz in it is unpacked);
    model_fn(model_dir) of the inference script loads it, and its input_fn, predict_fn and output_fn
    (or transform_fn) replace the defaults for JSON, CSV and NPY requests. Ctrl-C stops the server.
    """
    from modeltune.serving.server import serve

    serve(_location(job, training_job, entry_point, model_dir, store), host, port, workers)


def predict(
    input_file: Annotated[
        Path,
        typer.Option("--input", help="File of records, one per line.", exists=True, dir_okay=False, show_default=False),
    ],
    job: JobToServe = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write one answer per line (default: standard output).")
    ] = None,
    content_type: Annotated[str, typer.Option(help="text/csv or application/json (JSON lines).")] = "text/csv",
    accept: Annotated[
        str | None, typer.Option(help="Content type of the answers (default: the --content-type).", show_default=False)
    ] = None,
    training_job: TrainingJobOption = None,
    entry_point: EntryPointOption = None,
    model_dir: ModelDirOption = None,
    store: StoreOption = None,
) -> None:
    """Predict a file of records without a server (like a batch transform): one answer line per input line."""
    from modeltune.serving.batch import predict_lines

    location = _location(job, training_job, entry_point, model_dir, store)
    with open(input_file, encoding="utf-8", newline="") as lines:
        if output is None:
            predict_lines(location, lines, sys.stdout, content_type, accept or content_type)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w", encoding="utf-8") as sink:
            count = predict_lines(location, lines, sink, content_type, accept or content_type)
    typer.echo(f"Wrote {count} lines to {output} ({location.what}).", err=True)
