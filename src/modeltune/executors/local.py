"""Training jobs as local subprocesses, each in its own process group."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from modeltune.executors.base import Executor, ExecutorEvent, LaunchRequest


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    kill_at: float | None = None
    exited: bool = False
    threads: list[threading.Thread] = field(default_factory=list)


class LocalExecutor(Executor):
    """Runs each training job as a subprocess of this machine.

    stdout and stderr are merged, appended line by line to the job's log file and
    reported as events while the job runs. Stopping sends SIGTERM to the job's
    whole process group, then SIGKILL after the grace period; once the main
    process exits, any process it left behind in its group is killed too.
    """

    def __init__(self) -> None:
        self._events: queue.Queue[ExecutorEvent] = queue.Queue()
        self._jobs: dict[str, _Running] = {}

    def launch(self, request: LaunchRequest) -> int | None:
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **request.env}
        try:
            process = subprocess.Popen(
                request.argv,
                cwd=request.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            reason = f"could not start {request.argv[0]!r}: {exc.strerror or exc}"
            with open(request.log_path, "a", encoding="utf-8") as log:
                log.write(reason + "\n")
            self._events.put(ExecutorEvent(request.name, exit_code=None, error=reason))
            return None
        running = _Running(process)
        self._jobs[request.name] = running
        reader = threading.Thread(target=self._read, args=(request, process), daemon=True)
        waiter = threading.Thread(target=self._wait, args=(request.name, process, reader), daemon=True)
        running.threads = [reader, waiter]
        reader.start()
        waiter.start()
        return process.pid

    def _read(self, request: LaunchRequest, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with open(request.log_path, "ab") as log:
            for raw in iter(process.stdout.readline, b""):
                log.write(raw)
                log.flush()
                self._events.put(ExecutorEvent(request.name, line=raw.decode("utf-8", "replace").rstrip("\r\n")))
        process.stdout.close()

    def _wait(self, name: str, process: subprocess.Popen[bytes], reader: threading.Thread) -> None:
        code = process.wait()
        _signal_group(process.pid, signal.SIGKILL)  # children left behind would hold the log pipe open
        reader.join()
        self._events.put(ExecutorEvent(name, exit_code=code))

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        deadline = time.monotonic() + max(0.0, timeout)
        events: list[ExecutorEvent] = []
        while not events:
            self._enforce_kill_deadlines()
            now = time.monotonic()
            kills = [job.kill_at for job in self._jobs.values() if job.kill_at is not None]
            wait = min([deadline, *kills]) - now
            try:
                events.append(self._events.get(timeout=max(0.0, wait)))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    break
        try:
            while True:
                events.append(self._events.get_nowait())
        except queue.Empty:
            pass
        for event in events:
            if event.is_exit and event.name in self._jobs:
                self._jobs.pop(event.name)
        return events

    def _enforce_kill_deadlines(self) -> None:
        now = time.monotonic()
        for job in self._jobs.values():
            if job.kill_at is not None and now >= job.kill_at:
                _signal_group(job.process.pid, signal.SIGKILL)
                job.kill_at = None

    def stop(self, name: str, grace_seconds: float) -> None:
        job = self._jobs.get(name)
        if job is None or job.process.poll() is not None:
            return
        _signal_group(job.process.pid, signal.SIGTERM if grace_seconds > 0 else signal.SIGKILL)
        if grace_seconds > 0 and job.kill_at is None:
            job.kill_at = time.monotonic() + grace_seconds

    def running(self) -> list[str]:
        return list(self._jobs)

    def close(self, grace_seconds: float = 0.0) -> None:
        """Stop every job, wait for them to end (at most the grace period plus a little), then return."""
        super().close(grace_seconds)
        deadline = time.monotonic() + grace_seconds + 5
        while self._jobs and time.monotonic() < deadline:
            self.poll(0.1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
