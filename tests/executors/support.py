"""Helpers to drive executors with real processes: the implementations under test, a job launcher, process checks."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from modeltune.executors import Executor, ExecutorEvent, JobFiles, LaunchRequest, LocalExecutor

# Every implementation of the Executor interface runs the same contract tests.
EXECUTORS: dict[str, Callable[[], Executor]] = {"local": LocalExecutor}


class Jobs:
    """Writes small Python scripts into a folder and launches them."""

    def __init__(self, executor: Executor, folder: Path):
        self.executor = executor
        self.folder = folder
        self.events: list[ExecutorEvent] = []

    def request(self, name: str, source: str, env: dict[str, str] | None = None) -> LaunchRequest:
        script = self.folder / f"{name}.py"
        script.write_text(textwrap.dedent(source))
        return LaunchRequest(self.files(name), [sys.executable, str(script)], self.folder, env or {})

    def files(self, name: str) -> JobFiles:
        """The log and control folder of job ``name``."""
        return JobFiles(name, self.folder / f"{name}.log", self.folder / f"{name}.control")

    def launch(self, name: str, source: str, env: dict[str, str] | None = None) -> LaunchRequest:
        request = self.request(name, source, env)
        self.executor.launch(request)
        return request

    def poll_until(self, done: Callable[[list[ExecutorEvent]], bool], timeout: float = 20.0) -> list[ExecutorEvent]:
        """Polls (collecting every event in ``self.events``) until ``done(self.events)`` or the timeout."""
        deadline = time.monotonic() + timeout
        while not done(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s; events so far: {self.events}")
            self.events += self.executor.poll(0.05)
        return self.events

    def lines(self, name: str) -> list[str]:
        return [e.line for e in self.events if e.name == name and e.line is not None]

    def exits(self, name: str) -> list[ExecutorEvent]:
        return [e for e in self.events if e.name == name and e.is_exit]

    def wait_exit(self, name: str, timeout: float = 20.0) -> ExecutorEvent:
        self.poll_until(lambda _: bool(self.exits(name)), timeout)
        return self.exits(name)[0]

    def wait_line(self, name: str, line: str, timeout: float = 20.0) -> None:
        self.poll_until(lambda _: line in self.lines(name), timeout)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
