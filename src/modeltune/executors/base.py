"""The executor interface: where training jobs run (local processes, workers, Ray, ...)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class JobFiles:
    """Where one training job's output goes on the machine that runs it.

    Attributes:
        name: the training job's name (unique; identifies it in events).
        log_path: file that receives every line of stdout and stderr.
        control_dir: folder for the executor's own files about the job (how to find it, how it ended),
            which let a new executor instance re-attach to it.
    """

    name: str
    log_path: Path
    control_dir: Path


@dataclass(frozen=True)
class LaunchRequest:
    """Everything needed to start one training job.

    Attributes:
        files: where its log and control files go.
        argv: the command with its arguments; never run through a shell.
        cwd: the working directory.
        env: environment variables added to the executor's own environment.
    """

    files: JobFiles
    argv: list[str]
    cwd: Path
    env: dict[str, str]

    @property
    def name(self) -> str:
        """The training job's name."""
        return self.files.name


@dataclass(frozen=True)
class ExecutorEvent:
    """Something that happened to a training job: a log line, or its exit.

    Attributes:
        name: the training job's name.
        line: a log line without its newline (None for an exit event).
        exit_code: the exit code for an exit event (negative: killed by that signal).
        error: why the job could not start or could not be followed to its end, for an exit event
            without an exit code.
        offset: bytes of the log read up to and including this line (for an exit event: all of it);
            passing it to ``attach`` resumes after this event.
        ended_at: when the job ended (UTC), for an exit event; it may be well before the event when
            the job ended while no executor followed it.
    """

    name: str
    line: str | None = None
    exit_code: int | None = None
    error: str | None = None
    offset: int = 0
    ended_at: datetime | None = None

    @property
    def is_exit(self) -> bool:
        """True for the last event of a training job."""
        return self.line is None


class Executor(ABC):
    """Starts, watches and stops training jobs.

    The controller calls every method from one thread. ``launch`` returns at once;
    ``poll`` reports log lines while jobs run (so metrics and early stopping work
    live) and exactly one exit event per launched or attached job, after its last
    line. ``stop`` asks a job to end: SIGTERM (or the platform's equivalent) at
    once, a hard kill after ``grace_seconds``; the exit still arrives through ``poll``.

    Training jobs do not depend on the executor instance that launched them: when
    the controller dies, they run on, and ``attach`` lets a new instance follow them
    from where the old one stopped reading.
    """

    @abstractmethod
    def launch(self, request: LaunchRequest) -> int | None:
        """Start a training job; returns its process id where there is one."""

    @abstractmethod
    def attach(self, files: JobFiles, offset: int) -> bool:
        """Follow a training job launched earlier, from byte ``offset`` of its log.

        Returns False when it was never started (there is nothing to follow). A job
        that ended meanwhile reports its remaining lines and its exit; one that can
        no longer be followed (its machine restarted, its supervisor was killed)
        reports an exit event with an error.
        """

    @abstractmethod
    def poll(self, timeout: float) -> list[ExecutorEvent]:
        """Events since the last call, waiting up to ``timeout`` seconds for the first."""

    @abstractmethod
    def stop(self, name: str, grace_seconds: float) -> None:
        """Ask the training job ``name`` to end (no-op if it already ended)."""

    @abstractmethod
    def running(self) -> list[str]:
        """Names of launched or attached training jobs whose exit has not been reported."""

    def ends_recorded(self) -> None:
        """The exits every poll so far reported are in the store: an executor may now let go of what it kept
        for a new controller to follow them to their end (the local executor keeps nothing past an exit)."""
        return None

    def close(self, grace_seconds: float = 0.0) -> None:
        """Stop everything still running and release resources."""
        for name in self.running():
            self.stop(name, grace_seconds)
