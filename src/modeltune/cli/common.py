"""What every ``modeltune`` command shares: its options, the consoles it prints to, and opening the store."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from modeltune.store import Store

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
JobArgument = Annotated[str, typer.Argument(metavar="JOB", help="Name of the tuning job.", show_default=False)]

# Piped output (files, scripts) gets room for wide tables unless COLUMNS says otherwise.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
errors = Console(stderr=True, soft_wrap=True)


def open_store(url: str | None) -> Store:
    """The store at ``url`` (default: ``$MODELTUNE_STORE``, else SQLite in ``$MODELTUNE_HOME``)."""
    from modeltune.store import Store

    return Store(url)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
