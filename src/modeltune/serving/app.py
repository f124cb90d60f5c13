"""The HTTP app of one server worker: ``GET /ping`` and ``POST /invocations`` over an inference script.

Starlette (FastAPI's core) carries the two routes; the web library is imported inside ``create_app``
so that importing this module stays light.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modeltune.serving.handlers import Handlers, load_handlers
from modeltune.serving.payloads import RequestError

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

# /ping's 503 body starts with this once model_fn has raised (before that it says LOADING).
MODEL_FN_FAILED = "model_fn failed"
LOADING = "loading the model"
logger = logging.getLogger("modeltune.serving")


class ModelSlot:
    """The model of one worker process and the one thread that loads it and runs every request.

    One thread per worker, as SageMaker's model server gives each worker its own model: handler code
    need not be thread-safe, and ``/ping`` answers while ``model_fn`` or a prediction runs.
    """

    def __init__(self, handlers: Handlers, model_dir: Path):
        self.handlers = handlers
        self.model_dir = model_dir
        self.model: Any = None
        self.loaded = False
        self.problem = LOADING
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")

    def start_loading(self) -> None:
        """Call ``model_fn(model_dir)`` on the model thread; ``loaded`` turns True when it returns."""
        self._thread.submit(self._load)

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            self.model = self.handlers.model_fn(str(self.model_dir))
        except Exception as exc:
            self.problem = f"{MODEL_FN_FAILED}: {type(exc).__name__}: {exc}"
            logger.exception("%s; /ping answers 503", self.problem)
            return
        self.loaded = True
        logger.info("model_fn loaded the model from %s in %.2f s", self.model_dir, time.perf_counter() - started)

    async def answer(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        """The response body and content type for one request, computed on the model thread."""
        job = self._thread.submit(self.handlers.transform, self.model, body, content_type, accept)
        return await asyncio.wrap_future(job)

    def close(self) -> None:
        """Let the model thread end after its current call."""
        self._thread.shutdown(wait=False, cancel_futures=True)


def create_app(handlers: Handlers, model_dir: Path) -> Starlette:
    """The ASGI app serving ``handlers`` over the model in ``model_dir``; the model loads at start-up."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    slot = ModelSlot(handlers, model_dir)

    def text(message: str, status: int) -> Response:
        return Response(message, status, media_type="text/plain")

    async def ping(_request: Request) -> Response:
        return Response(status_code=200) if slot.loaded else text(slot.problem, 503)

    async def invocations(request: Request) -> Response:
        if not slot.loaded:
            return text(slot.problem, 503)
        body = await request.body()
        try:
            answer, content_type = await slot.answer(
                body, request.headers.get("content-type"), request.headers.get("accept")
            )
        except RequestError as exc:
            return text(str(exc), exc.status)
        except Exception as exc:
            logger.exception("an invocation failed")
            return text(f"{type(exc).__name__}: {exc}", 500)
        return Response(answer, media_type=content_type)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        slot.start_loading()
        yield
        slot.close()

    routes = [Route("/ping", ping, methods=["GET"]), Route("/invocations", invocations, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """The app of a server worker: the model folder in ``SM_MODEL_DIR``, the script in ``SAGEMAKER_PROGRAM``."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    return create_app(load_handlers(Path(os.environ["SAGEMAKER_PROGRAM"])), Path(os.environ["SM_MODEL_DIR"]))
