"""The REST API and web console of ``modeltune serve``: one FastAPI app over the same service functions as the CLI.

FastAPI, Starlette and Jinja2 (the ``server`` extra) load only when an app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from modeltune.store import Store


def create_app(store: Store, token: str | None = None, supervise: bool = True) -> FastAPI:
    """The app serving ``store``: REST under ``/api/v1``, the console under ``/``, OpenAPI at ``/docs``.

    Args:
        store: the store whose tuning jobs it shows and runs.
        token: when set, API clients must send ``Authorization: Bearer <token>`` and the console asks
            for it on a login page.
        supervise: restart the controllers of tuning jobs created through the server when they die.
    """
    from modeltune.web.app import build_app

    return build_app(store, token, supervise)


__all__ = ["create_app"]
