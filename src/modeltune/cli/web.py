"""The ``serve`` command: the REST API and web console over a store."""

from __future__ import annotations

from typing import Annotated

import typer

from modeltune.cli.common import StoreOption, console, open_store

DEFAULT_PORT = 8600


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; any but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).", min=0, max=65535)] = DEFAULT_PORT,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="MODELTUNE_SERVER_TOKEN",
            help="Token API clients send as 'Authorization: Bearer' and the console asks for.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /docs) and the web console; tuning jobs created here run.

    Their controllers run as background processes, so stopping the server does not stop them; a
    server started again takes over any that died.
    """
    from modeltune import extras
    from modeltune.errors import ModeltuneError
    from modeltune.serving.server import listen
    from modeltune.web.security import check_exposure

    check_exposure(host, token)
    for module in ("fastapi", "uvicorn", "jinja2"):
        extras.require(module, "server", "modeltune serve needs", ModeltuneError)
    import uvicorn

    from modeltune.web import create_app
    from modeltune.web.assets import prepare

    the_store = open_store(store)
    sock = listen(host, port)
    sock.listen(2048)  # connections wait in the backlog until the app is ready, instead of being refused
    bound = sock.getsockname()[1]
    prepare()
    shown = f"[{host}]" if ":" in host else host
    console.print(f"modeltune serves {the_store.safe_url} on http://{shown}:{bound}/ (API docs at /docs)")
    config = uvicorn.Config(create_app(the_store, token), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
