"""Serving test helpers: the inference scripts, and servers run as real processes on 127.0.0.1."""

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

import httpx

SCRIPTS = Path(__file__).parent / "scripts"


def group_members(pgid: int) -> list[int]:
    """Pids of the live processes in process group ``pgid`` (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@dataclass
class CliServer:
    """A ``modeltune deploy`` process, its URL and its log (stdout and stderr)."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> str:
        """The log once it contains ``text``."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server log never showed {text!r}:\n{log}")
            time.sleep(0.05)
        return log


@contextmanager
def cli_server(
    log_path: Path, *args: str, env: dict[str, str] | None = None, port: str | None = "0", timeout: float = 60
) -> Iterator[CliServer]:
    """Run ``modeltune deploy ARGS --port PORT`` until the block ends, then stop it by its pid.

    Yields once it has printed its URL (the model may still be loading).
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "modeltune", "deploy", *args, *(["--port", port] if port else [])],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not (found := re.search(r"http://127\.0\.0\.1:\d+", log_path.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"modeltune deploy did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield CliServer(process, found.group(), log_path)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert group_members(process.pid) == []


def wait_for_ping(url: str, status: int = 200, timeout: float = 60) -> httpx.Response:
    """Poll ``GET url/ping`` until it answers ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(f"{url}/ping", timeout=2)
            if response.status_code == status:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"/ping of {url} did not answer {status} in {timeout} s")
        time.sleep(0.05)
