"""``modeltune artifacts``: fetch a training job's model.tar.gz from its artifact location."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modeltune.cli.common import JobArgument, StoreOption, console, open_store


def artifacts(
    job: JobArgument,
    training_job: Annotated[
        str | None,
        typer.Argument(
            metavar="[TRAINING_JOB]", help="Training job name or number (default: the best).", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for model.tar.gz and the unpacked model/.")
    ] = Path("."),
    store: StoreOption = None,
) -> None:
    """Fetch a training job's model.tar.gz (the best one's by default) and unpack it into OUTPUT/model."""
    from modeltune.artifacts.service import fetch_training_job_model

    fetched = fetch_training_job_model(open_store(store), job, training_job, output)
    console.print(f"Fetched the model of {fetched.training_job.name} from {fetched.uri}", markup=False, highlight=False)
    console.print(f"  archive: {fetched.archive}\n  model:   {fetched.model_dir}", markup=False, highlight=False)
