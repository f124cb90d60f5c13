"""Training jobs as processes of this machine, each run by its own supervisor (see ``supervisor``)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from modeltune.core import utcnow
from modeltune.executors import supervisor
from modeltune.executors.base import Executor, ExecutorEvent, JobFiles, LaunchRequest
from modeltune.executors.supervisor import (
    EXIT_FILE,
    STOP_FILE,
    SUPERVISOR_FILE,
    TOKEN_VARIABLE,
    job_processes,
    signal_all,
    start_ticks,
    write_json,
)

# Variables of the controller's environment that training jobs never see (the store URL holds a password).
PRIVATE_VARIABLES = ("MODELTUNE_STORE",)
# How often poll() looks at the log and control files while it waits.
_SCAN_SECONDS = 0.01
# The error of a training job whose supervisor vanished without recording how the job ended.
LOST = "lost: its supervisor ended without recording an exit status (killed, or the machine restarted)"
# A supervisor that has not ended this long after its grace period is killed from here.
_SUPERVISOR_GRACE = 5.0


@dataclass
class _Followed:
    """A training job this executor follows: how far its log has been reported, and its supervisor."""

    files: JobFiles
    offset: int
    pending: bytes = b""
    process: subprocess.Popen[bytes] | None = None  # the supervisor, when this executor started it
    pid: int | None = None
    start: int | None = None
    token: str = ""
    give_up_at: float | None = None
    exit_fd: int | None = None  # readable once the supervisor has ended (a pidfd), so a wait wakes at once

    def supervisor_alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and self.start is not None and start_ticks(self.pid) == self.start


class LocalExecutor(Executor):
    """Runs each training job under a supervisor process in a session of its own.

    Args:
        die_with_parent: end the training jobs when this process dies (for workers, which do not
            re-attach), instead of letting them run on for a successor.
        detach: start each supervisor as no child of this process (followed like an attached job), so
            it outlives a parent that kills its children when it ends (a Ray task's worker).

    The supervisor appends stdout and stderr to the job's log file and records the
    exit in the job's control folder, so a job survives the controller and a new
    executor can ``attach`` to it. Stopping sends SIGTERM to every process of the
    job (its descendants, even those that left its session), then SIGKILL after
    the grace period; whatever the job left running when it exits is killed too.
    """

    def __init__(self, die_with_parent: bool = False, detach: bool = False) -> None:
        self.die_with_parent = die_with_parent
        self.detach = detach
        self._jobs: dict[str, _Followed] = {}

    def launch(self, request: LaunchRequest) -> int | None:
        files = request.files
        files.log_path.parent.mkdir(parents=True, exist_ok=True)
        files.control_dir.mkdir(parents=True, exist_ok=True)
        for name in (SUPERVISOR_FILE, EXIT_FILE, STOP_FILE):
            (files.control_dir / name).unlink(missing_ok=True)
        token = uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARIABLES}
        env.update({"PYTHONUNBUFFERED": "1", **request.env, TOKEN_VARIABLE: token})
        # Isolated and without site-packages: it needs only the standard library, so it starts fast.
        option = ["--die-with-parent"] if self.die_with_parent else ["--detach"] if self.detach else []
        command = [sys.executable, "-I", "-S", "-c", supervisor.LAUNCH, *option]
        command += [str(files.control_dir), str(files.log_path)]
        offset = files.log_path.stat().st_size if files.log_path.exists() else 0
        try:
            with open(files.log_path, "ab") as log:  # the supervisor's own errors land in the job's log
                process = subprocess.Popen(
                    [*command, "--", *request.argv],
                    cwd=request.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except (OSError, ValueError) as exc:
            reason = (
                f"could not start the training job in {str(request.cwd)!r}: {getattr(exc, 'strerror', None) or exc}"
            )
            ending = {"exit_code": None, "stopped": False, "error": reason, "ended_at": time.time()}
            write_json(files.control_dir / EXIT_FILE, ending)
            self._jobs[files.name] = _Followed(files, offset)
            return None
        if self.detach:
            process.wait()  # its first process ends once the supervisor wrote supervisor.json
            if self.attach(files, offset):
                return self._jobs[files.name].pid
            self._jobs[files.name] = _Followed(files, offset, token=token)  # it could not start: lost
            return None
        exit_fd = _exit_fd(process.pid)
        followed = _Followed(files, offset, process=process, pid=process.pid, token=token, exit_fd=exit_fd)
        self._jobs[files.name] = followed
        return process.pid

    def attach(self, files: JobFiles, offset: int) -> bool:
        try:
            started = json.loads((files.control_dir / SUPERVISOR_FILE).read_text())
        except (OSError, ValueError):
            return False
        pid = started.get("pid")
        token = started.get("token", "")
        self._jobs[files.name] = _Followed(
            files, offset, pid=pid, start=started.get("start"), token=token, exit_fd=_exit_fd(pid)
        )
        return True

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            events = [event for job in list(self._jobs.values()) for event in self._scan(job)]
            if events or time.monotonic() >= deadline:
                return events
            self.wait(min(_SCAN_SECONDS, max(0.0, deadline - time.monotonic())))

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking as soon as a supervisor ends (its end is then read from its files by
        the next ``poll``)."""
        watched = {job.exit_fd: job for job in self._jobs.values() if job.exit_fd is not None}
        if not watched:
            time.sleep(seconds)
            return
        ready, _, _ = select.select(list(watched), [], [], seconds)
        for fd in ready:  # one wake-up per supervisor
            os.close(fd)
            watched[fd].exit_fd = None

    def _scan(self, job: _Followed) -> list[ExecutorEvent]:
        """New complete log lines of ``job``, and its exit once it has ended and its log is read."""
        ended = self._ending(job)
        events = self._read_lines(job, final=ended is not None)
        if ended is not None:
            del self._jobs[job.files.name]
            _close(job.exit_fd)
            events.append(replace(ended, offset=job.offset))
        return events

    def _ending(self, job: _Followed) -> ExecutorEvent | None:
        """The job's exit event once it has ended (from its exit file, or with an error when its supervisor
        vanished without one); None while it runs."""
        try:
            exit_file = (job.files.control_dir / EXIT_FILE).read_text()
        except OSError:
            exit_file = ""
        if exit_file:
            if job.process is not None:
                job.process.wait()
            ended = json.loads(exit_file)
            moment = (
                datetime.fromtimestamp(ended["ended_at"], UTC).replace(tzinfo=None) if "ended_at" in ended else None
            )
            return ExecutorEvent(
                job.files.name, exit_code=ended.get("exit_code"), error=ended.get("error"), ended_at=moment
            )
        if job.supervisor_alive() and (job.give_up_at is None or time.monotonic() < job.give_up_at):
            return None
        self._kill(job)
        if (job.files.control_dir / EXIT_FILE).exists():  # it wrote the exit file just now
            return None
        return ExecutorEvent(job.files.name, error=LOST, ended_at=utcnow())

    def _read_lines(self, job: _Followed, final: bool) -> list[ExecutorEvent]:
        """Complete lines appended to the log since the last call (and the unfinished last one when ``final``)."""
        try:
            with open(job.files.log_path, "rb") as log:
                log.seek(job.offset + len(job.pending))
                chunk = log.read()
        except OSError:
            chunk = b""
        *complete, rest = (job.pending + chunk).split(b"\n")
        lines = [(raw, len(raw) + 1) for raw in complete]
        if final and rest:
            lines.append((rest, len(rest)))
        job.pending = b"" if final else rest
        events = []
        for raw, size in lines:
            job.offset += size
            line = raw.decode("utf-8", "replace").rstrip("\r")
            events.append(ExecutorEvent(job.files.name, line=line, offset=job.offset))
        return events

    def stop(self, name: str, grace_seconds: float) -> None:
        job = self._jobs.get(name)
        if job is None or job.pid is None:
            return
        write_json(job.files.control_dir / STOP_FILE, {"grace_seconds": max(0.0, grace_seconds)})
        if job.supervisor_alive():
            try:
                os.kill(job.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        give_up_at = time.monotonic() + max(0.0, grace_seconds) + _SUPERVISOR_GRACE
        job.give_up_at = give_up_at if job.give_up_at is None else min(job.give_up_at, give_up_at)

    def _kill(self, job: _Followed) -> None:
        """Kill the supervisor and every process carrying the job's token (the supervisor failed to)."""
        if job.pid is not None and job.supervisor_alive():
            try:
                os.kill(job.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if job.process is not None:
                job.process.wait()
        if job.token:
            signal_all(job_processes(-1, job.token), signal.SIGKILL)

    def running(self) -> list[str]:
        return list(self._jobs)

    def close(self, grace_seconds: float = 0.0) -> None:
        """Stop every job, wait for them to end (at most the grace period plus a little), then return."""
        super().close(grace_seconds)
        deadline = time.monotonic() + grace_seconds + _SUPERVISOR_GRACE + 1
        while self._jobs and time.monotonic() < deadline:
            self.poll(0.1)
        for job in self._jobs.values():
            _close(job.exit_fd)
            job.exit_fd = None


def _exit_fd(pid: int | None) -> int | None:
    """A file descriptor that becomes readable when process ``pid`` ends (Linux 5.3 and newer), or None."""
    if pid is None or not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)
