"""Running ``modeltune serve`` in tests: a real server process on a loopback port, and specs for it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import toy_spec


@dataclass
class WebServer:
    """A running server: its process, base URL, store and log."""

    process: subprocess.Popen[bytes]
    url: str
    store: Store
    log_path: Path
    token: str | None = None

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers, **kwargs)


@contextmanager
def web_server(home: Path, *args: str, timeout: float = 90) -> Iterator[WebServer]:
    """Run ``modeltune serve --port 0 ARGS`` with ``home`` as MODELTUNE_HOME; stop it by its pid at the end."""
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / f"serve-{time.monotonic_ns()}.log"
    env = {**os.environ, "MODELTUNE_HOME": str(home), "COLUMNS": "300"}
    env.pop("MODELTUNE_STORE", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "modeltune", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + timeout
        while not (found := re.search(r"http://([0-9.]+):(\d+)", log_path.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"modeltune serve did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        token = args[args.index("--token") + 1] if "--token" in args else None
        url = f"http://127.0.0.1:{found.group(2)}"  # every address the server listens on includes loopback
        yield WebServer(process, url, Store(home=home), log_path, token)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_controllers(store: Store) -> None:
    """SIGTERM the controllers of jobs that still run (they stop their training jobs) and wait for them."""
    pids = [j.controller_pid for j in repo.list_tuning_jobs(store) if not j.terminal and j.controller_pid]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 30
    for pid in pids:
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}") and _state(pid) not in ("Z", "X"):
            time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def wait_for(check: Any, timeout: float = 60, every: float = 0.2) -> Any:
    """Call ``check`` until it returns something truthy; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s")
        time.sleep(every)
    return result


def quick_spec(name: str, max_jobs: int = 4, **overrides: Any) -> dict[str, Any]:
    """The toy spec with ``max_jobs`` training jobs, two at a time."""
    return toy_spec(name=name, limits={"max_jobs": max_jobs, "max_parallel_jobs": min(2, max_jobs)}, **overrides)


def slow_spec(name: str, seconds: float = 60, max_jobs: int = 2) -> dict[str, Any]:
    """Training jobs that print a loss, then sleep ``seconds`` (they save a checkpoint on SIGTERM)."""
    spec = toy_spec(name=name, mode="sleep", limits={"max_jobs": max_jobs, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"]["seconds"] = seconds
    spec["training"]["stop_grace_seconds"] = 5
    return spec
