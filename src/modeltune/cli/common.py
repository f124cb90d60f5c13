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
    from modeltune.web.client import Client

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


ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="MODELTUNE_SERVER",
        help="Run the command through a modeltune server's REST API (http://host:8600) instead of a store.",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="MODELTUNE_TOKEN", help="The server's token (with --server).", show_default=False),
]

_server: dict[str, str | None] = {"url": None, "token": None}


def use_server(url: str | None, token: str | None) -> None:
    """Remember the global ``--server`` and ``--token`` for the command that runs next."""
    _server.update(url=url or None, token=token or None)


def server_client() -> Client | None:
    """A client of the server given with ``--server`` (or ``$MODELTUNE_SERVER``), else None: use the store."""
    url = _server["url"]
    if url is None:
        return None
    if not url.startswith(("http://", "https://")):
        from modeltune.errors import ModeltuneError

        raise ModeltuneError(f"--server {url!r} is not a server's URL; give one like http://host:8600")
    from modeltune.web.client import Client

    return Client(url, token=_server["token"])


def local_only(what: str) -> None:
    """Refuse ``what`` (a command, as the user typed it) when ``--server`` is given: it needs the store itself.

    Raises:
        ModeltuneError: ``--server`` (or ``$MODELTUNE_SERVER``) is set.
    """
    if _server["url"] is not None:
        from modeltune.errors import ModeltuneError

        raise ModeltuneError(
            f"{what} needs direct access to the store and does not work through --server; "
            "run it where the store is, without --server and MODELTUNE_SERVER"
        )


def open_store(url: str | None) -> Store:
    """The store at ``url`` (default: ``$MODELTUNE_STORE``, else SQLite in ``$MODELTUNE_HOME``)."""
    from modeltune.store import Store

    return Store(url)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
