"""The floor: a plain route that decodes one CSV body, calls the model's predict and answers JSON.

No handler lookup, no content negotiation, no thread: what a hand-written endpoint would do. Run as
uvicorn workers (``app_from_environment`` reads ``FLOOR_FRAMEWORK``, ``SM_MODEL_DIR`` and
``SAGEMAKER_PROGRAM``)::

    python -m benchmarks.serving.floor --framework starlette --port 8081 --workers 1

No ``from __future__ import annotations`` here: FastAPI reads the route's annotations at run time.
"""

import argparse
import importlib.util
import io
import json
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np


def _load_model() -> Any:
    path = Path(os.environ["SAGEMAKER_PROGRAM"])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model_fn(os.environ["SM_MODEL_DIR"])


def _answer(model: Any, body: bytes) -> bytes:
    rows = np.loadtxt(io.StringIO(body.decode()), delimiter=",", ndmin=2)
    return json.dumps(model.predict(rows).tolist()).encode()


def app_from_environment() -> Any:
    """A Starlette or FastAPI app with one POST route, ``/invocations``, and ``GET /ping``."""
    model = _load_model()
    if os.environ["FLOOR_FRAMEWORK"] == "fastapi":
        from fastapi import FastAPI, Request, Response

        app = FastAPI()

        @app.post("/invocations")
        async def invocations(request: Request) -> Response:
            return Response(_answer(model, await request.body()), media_type="application/json")

        @app.get("/ping")
        async def ping() -> Response:
            return Response()

        return app
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def invocations_route(request: Request) -> Response:
        return Response(_answer(model, await request.body()), media_type="application/json")

    async def ping_route(_request: Request) -> Response:
        return Response()

    return Starlette(routes=[Route("/invocations", invocations_route, methods=["POST"]), Route("/ping", ping_route)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["starlette", "fastapi"], default="starlette")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--uvicorn-binds", action="store_true", help="let uvicorn.run bind (proto 0: no TCP_NODELAY)")
    args = parser.parse_args()
    os.environ["FLOOR_FRAMEWORK"] = args.framework
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    options = {"factory": True, "host": "127.0.0.1", "port": args.port, "workers": args.workers}
    options.update(http=args.http, access_log=args.access_log)
    if args.uvicorn_binds:
        uvicorn.run("benchmarks.serving.floor:app_from_environment", **options)
        return
    # As modeltune binds: with IPPROTO_TCP, so that asyncio sets TCP_NODELAY on accepted connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config("benchmarks.serving.floor:app_from_environment", **options)
    if args.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
