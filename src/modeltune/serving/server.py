"""Model servers: uvicorn in this process (``modeltune deploy``) or in a child process (the Python API).

A server's workers find their model through SageMaker's serving variables: ``SM_MODEL_DIR`` (the
model folder) and ``SAGEMAKER_PROGRAM`` (the inference script).
"""

from __future__ import annotations

import atexit
import errno
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modeltune import extras
from modeltune.errors import ServingError
from modeltune.serving.handlers import load_handlers
from modeltune.serving.locate import ModelLocation, unpacked

LOCALHOST = "127.0.0.1"
_APP_FACTORY = "modeltune.serving.app:app_from_environment"
# Seconds a stopped server gets to finish its requests before SIGKILL.
_STOP_GRACE_S = 10.0
# How long ``stop`` waits for the killed processes of the server's group to be gone (a process ends a
# moment after its SIGKILL, later on a busy machine).
_GONE_WAIT_S = 5.0
# Seconds a child server gets to answer /ping with 200 (model_fn included).
STARTUP_TIMEOUT_S = 120.0


def require_server() -> None:
    """Raise ServingError naming the install command when the ``server`` extra is missing."""
    for module in ("uvicorn", "starlette"):
        extras.require(module, "server", "serving a model needs", ServingError)


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port the system picks), for the server to listen on.

    The socket is made with ``IPPROTO_TCP``: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    connections accepted from such a socket, and uvicorn's own multi-worker socket lacks it, which
    made every keep-alive request wait ~40 ms for a delayed ACK (uvicorn issue #3149; benchmarks/serving).

    Raises:
        ServingError: the port is in use, or ``host`` is not an address of this machine.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServingError(
                f"port {port} on {host} is in use; choose another with --port (0 picks a free one)"
            ) from None
        raise ServingError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host") from None
    return sock


def free_port(host: str, port: int) -> int:
    """``port`` when it is free on ``host`` now (0: a free port); ServingError when it is in use."""
    with listen(host, port) as sock:
        return int(sock.getsockname()[1])


def serve(location: ModelLocation, host: str, port: int, workers: int) -> None:
    """Serve ``location`` with ``workers`` processes until Ctrl-C or SIGTERM.

    The inference script is checked and the port bound first, so that a script that cannot serve
    or a port in use is refused with one sentence before anything starts.

    Raises:
        ServingError: missing extra, unusable script or model archive, port in use, or a server
            that did not start.
    """
    require_server()
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    with unpacked(location.model_dir) as model_dir, listen(host, port) as sock:
        load_handlers(location.entry_point)
        port = sock.getsockname()[1]
        os.environ.update(SM_MODEL_DIR=str(model_dir), SAGEMAKER_PROGRAM=str(location.entry_point))
        print(
            f"Serving {location.what} on http://{host}:{port} (GET /ping, POST /invocations) "
            f"with {workers} worker{'s' if workers > 1 else ''}; Ctrl-C stops it.",
            flush=True,
        )
        # No access log: a line per request would flood the log (its cost in throughput was within noise).
        config = uvicorn.Config(_APP_FACTORY, factory=True, host=host, port=port, workers=workers, access_log=False)
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            raise ServingError("the model server did not start; see the messages above")


class ServerProcess:
    """A model server in a child process on 127.0.0.1, stopped by ``stop()`` or when this process exits.

    The child is ``python -m modeltune deploy`` serving ``SM_MODEL_DIR`` with ``SAGEMAKER_PROGRAM``,
    in a process group of its own; its output goes to ``log_path`` (removed by ``stop``).

    Args:
        location: the model and its inference script.
        port: the port to listen on; 0 picks a free one.
        workers: server worker processes.

    Raises:
        ServingError: the port is in use, the server exits, model_fn raises, or /ping stays
            unanswered for ``STARTUP_TIMEOUT_S`` seconds.
    """

    def __init__(self, location: ModelLocation, port: int = 0, workers: int = 1):
        require_server()
        self.port = free_port(LOCALHOST, port)
        self.url = f"http://{LOCALHOST}:{self.port}"
        handle, log_name = tempfile.mkstemp(prefix="modeltune-server-", suffix=".log")
        self.log_path = Path(log_name)
        command = [sys.executable, "-m", "modeltune", "deploy", "--host", LOCALHOST, "--port", str(self.port)]
        command += ["--workers", str(workers)]
        env = {**os.environ, "SM_MODEL_DIR": str(location.model_dir), "SAGEMAKER_PROGRAM": str(location.entry_point)}
        with os.fdopen(handle, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        atexit.register(self.stop)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        from modeltune.serving.app import MODEL_FN_FAILED

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            code = self.process.poll()
            if code is not None:
                reason = self._exit_reason(code)
                self.stop()
                raise ServingError(reason)
            status, text = self._ping()
            if status == 200:
                return
            if text.startswith(MODEL_FN_FAILED):
                self.stop()
                raise ServingError(
                    f"the model server cannot load the model ({text}); fix model_fn in the inference script"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServingError(f"the model server did not answer /ping with 200 in {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.05)

    def _ping(self) -> tuple[int, str]:
        connection = http.client.HTTPConnection(LOCALHOST, self.port, timeout=2)
        try:
            connection.request("GET", "/ping")
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        except OSError:  # not listening yet
            return 0, ""
        finally:
            connection.close()

    def _exit_reason(self, code: int) -> str:
        """The child's one-line error (``error: ...``), else its exit code and last log line (the log goes)."""
        lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        if errors:
            return errors[-1]
        return f"the model server exited with code {code} before answering /ping: {lines[-1] if lines else 'no output'}"

    def stop(self) -> None:
        """SIGTERM the server (its workers end with it), SIGKILL its process group after a grace period."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever the server left behind in its own process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        _wait_until_gone(self.process.pid)
        self.log_path.unlink(missing_ok=True)


def _wait_until_gone(group: int) -> None:
    """Wait (at most ``_GONE_WAIT_S``) until no process of the process group ``group`` is left."""
    deadline = time.monotonic() + _GONE_WAIT_S
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
