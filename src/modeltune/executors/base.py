"""The executor interface: where training jobs run (local processes, Ray, ...)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LaunchRequest:
    """Everything needed to start one training job.

    Attributes:
        name: the training job's name (unique; identifies it in events).
        argv: the command with its arguments; never run through a shell.
        cwd: the working directory.
        env: environment variables added to the executor's own environment.
        log_path: file that receives every line of stdout and stderr.
    """

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path


@dataclass(frozen=True)
class ExecutorEvent:
    """Something that happened to a training job: a log line, or its exit.

    Attributes:
        name: the training job's name.
        line: a log line without its newline (None for an exit event).
        exit_code: the exit code for an exit event (negative: killed by that signal).
        error: why the job could not start, for an exit event without a process.
    """

    name: str
    line: str | None = None
    exit_code: int | None = None
    error: str | None = None

    @property
    def is_exit(self) -> bool:
        """True for the last event of a training job."""
        return self.line is None


class Executor(ABC):
    """Starts, watches and stops training jobs.

    The controller calls every method from one thread. ``launch`` returns at once;
    ``poll`` reports log lines while jobs run (so metrics and early stopping work
    live) and exactly one exit event per launched job, after its last line.
    ``stop`` asks a job to end: SIGTERM (or the platform's equivalent) at once,
    a hard kill after ``grace_seconds``; the exit still arrives through ``poll``.
    """

    @abstractmethod
    def launch(self, request: LaunchRequest) -> int | None:
        """Start a training job; returns its process id where there is one."""

    @abstractmethod
    def poll(self, timeout: float) -> list[ExecutorEvent]:
        """Events since the last call, waiting up to ``timeout`` seconds for the first."""

    @abstractmethod
    def stop(self, name: str, grace_seconds: float) -> None:
        """Ask the training job ``name`` to end (no-op if it already ended)."""

    @abstractmethod
    def running(self) -> list[str]:
        """Names of launched training jobs whose exit has not been reported."""

    def close(self, grace_seconds: float = 0.0) -> None:
        """Stop everything still running and release resources."""
        for name in self.running():
            self.stop(name, grace_seconds)
