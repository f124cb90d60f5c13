"""Building the FastAPI app: API and console routers, error answers, the security guard, the supervisor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modeltune import __version__
from modeltune.store import Store
from modeltune.web import api, console, live, problems
from modeltune.web.runs import Runs
from modeltune.web.security import guard


def build_app(store: Store, token: str | None = None, supervise: bool = True) -> FastAPI:
    """The app of ``modeltune serve`` (see ``modeltune.web.create_app``)."""
    runs = Runs(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if supervise:
            runs.supervise()
        try:
            yield
        finally:
            runs.close()

    app = FastAPI(
        title="modeltune",
        version=__version__,
        description="Self-hosted automatic model tuning: create, watch, compare and stop tuning jobs.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.runs = runs
    app.state.token = token
    problems.install(app)
    app.middleware("http")(guard(token))
    app.include_router(api.router)
    app.include_router(live.router)
    app.include_router(console.router)
    console.mount_static(app)
    return app
