"""Options shared by every ``modeltune`` command."""

from __future__ import annotations

from typing import Annotated

import typer

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="MODELTUNE_STORE",
        help="Database URL of the store (default: SQLite in $MODELTUNE_HOME, ~/.modeltune).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DetachOption = Annotated[bool, typer.Option(help="Return at once; the job runs in a background process.")]
JobArgument = Annotated[str, typer.Argument(help="Name of the tuning job.", show_default=False)]
