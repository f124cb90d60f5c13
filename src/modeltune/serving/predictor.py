"""The Python API: serve a tuning job's model and call it (SageMaker's ``deploy`` and ``Predictor``)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from modeltune.errors import InvocationError, ServingError
from modeltune.serving import payloads
from modeltune.serving.server import ServerProcess
from modeltune.store import Store

# SageMaker gives an invocation 60 seconds.
_INVOCATION_TIMEOUT_S = 60.0


class Predictor:
    """Sends prediction requests to a model server (SageMaker's ``Predictor``).

    Args:
        endpoint: the server's URL, e.g. ``http://127.0.0.1:8080``.
        server: the server process this predictor started (``delete_endpoint`` stops it), if any.

    Each call opens its own connection, so one Predictor may be used from several threads.
    """

    def __init__(self, endpoint: str, server: ServerProcess | None = None):
        parts = urlsplit(endpoint)
        self.endpoint = endpoint
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self.server = server

    def predict(self, data: Any, content_type: str = payloads.JSON, accept: str = payloads.JSON) -> Any:
        """Send ``data`` to ``/invocations`` and decode the answer.

        Args:
            data: bytes or str, sent as they are; anything else (NumPy arrays, lists) is encoded as
                ``content_type`` (JSON, CSV or NPY).
            content_type: the request's Content-Type.
            accept: the request's Accept header.

        Returns:
            Decoded JSON (lists, numbers), a NumPy array for CSV (2-D, one row per line) and NPY,
            else the body as bytes.

        Raises:
            InvocationError: the server answered with an error status (its message included).
            ServingError: nothing answers at the endpoint.
        """
        body = self._body(data, content_type)
        connection = http.client.HTTPConnection(self._host, self._port, timeout=_INVOCATION_TIMEOUT_S)
        try:
            connection.request("POST", "/invocations", body, {"Content-Type": content_type, "Accept": accept})
            response = connection.getresponse()
            answer = response.read()
        except ConnectionError as exc:
            raise ServingError(f"the endpoint {self.endpoint} does not answer ({exc}); is it running?") from None
        finally:
            connection.close()
        if response.status != 200:
            message = answer.decode("utf-8", "replace")
            raise InvocationError(response.status, f"the endpoint answered {response.status}: {message}")
        kind = payloads.media_type(response.getheader("Content-Type"))
        if kind == payloads.JSON:
            return json.loads(answer)
        return payloads.decode(answer, kind) if kind in payloads.SUPPORTED else answer

    @staticmethod
    def _body(data: Any, content_type: str) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode()
        kind = payloads.media_type(content_type)
        if kind not in payloads.SUPPORTED:
            raise ServingError(f"cannot encode data as {content_type!r}; pass bytes or str, or use JSON, CSV or NPY")
        return payloads.encode(data, kind)

    def delete_endpoint(self) -> None:
        """Stop the server process this predictor started (SIGTERM, then SIGKILL after 10 s)."""
        if self.server is None:
            raise ServingError(f"this Predictor did not start the server at {self.endpoint}; stop it where it runs")
        self.server.stop()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.delete_endpoint()


def deploy(
    job: str,
    training_job: str | None = None,
    entry_point: str | None = None,
    port: int | None = None,
    workers: int = 1,
    store: Store | str | None = None,
) -> Predictor:
    """Serve a tuning job's best (or named) training job's model on 127.0.0.1 in a child process.

    The server lives until ``delete_endpoint()`` or until this Python process exits.

    Args:
        job: the tuning job.
        training_job: a training job's name or number instead of the best one.
        entry_point: the inference script (default: the training script, if it defines ``model_fn``).
        port: the port; None or 0 picks a free one.
        workers: server worker processes.
        store: a ``Store`` or database URL; default: the embedded SQLite store.

    Returns:
        A Predictor whose ``predict`` calls the model and ``delete_endpoint`` stops the server.

    Raises:
        ModeltuneError: no such job or model, an unusable inference script, a port in use, or a
            ``model_fn`` that raised.
    """
    from modeltune.serving.locate import locate_training_job

    the_store = store if isinstance(store, Store) else Store(store)
    location = locate_training_job(the_store, job, training_job, entry_point)
    server = ServerProcess(location, port or 0, workers)
    return Predictor(server.url, server)
