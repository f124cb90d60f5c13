"""Tuning jobs the server runs: their controllers are detached processes, restarted when they die.

A controller started by the server runs in its own session (``service.start_detached``), so
stopping or restarting the server does not stop it. A marker file in the tuning job's folder
says the server owns it; a server that starts again, and a server whose controller died, starts
a new controller for every owned job that has not ended, which re-attaches to its training jobs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from modeltune.controller import service
from modeltune.errors import ConflictError, NotFoundError
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TuningJob
from modeltune.store import repository as repo
from modeltune.store.leases import controller_alive

log = logging.getLogger("modeltune.web")
MARKER = "started-by-server"
# A fresh controller takes its lease within a second or two; until then it is not "alive" in the store.
_START_GRACE_S = 15.0
# How often the supervisor looks for owned tuning jobs whose controller died.
SUPERVISE_EVERY_S = 5.0
# A controller that dies this often for one job (e.g. its training command vanished) is not started again;
# the job shows as interrupted until someone resumes it.
MAX_REVIVALS = 3


def _marker(store: Store, name: str) -> Path:
    return store.jobs_folder() / name / MARKER


class Runs:
    """Starts, stops and watches over the controllers of the tuning jobs created through the server."""

    def __init__(self, store: Store):
        self.store = store
        self._started: dict[str, tuple[int, float]] = {}
        self._revivals: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def create(self, spec: TuningJobSpec) -> TuningJob:
        """Store ``spec`` as a new tuning job and start its controller."""
        job = service.submit(self.store, spec)
        self.start(job.name)
        return job

    def start(self, name: str) -> None:
        """Start a controller for ``name`` in a detached process and mark the job as the server's."""
        with self._lock:
            pid = service.start_detached(self.store, name)
            self._started[name] = (pid, time.monotonic())
        _marker(self.store, name).touch()

    def resume(self, name: str, max_jobs: int | None) -> TuningJob:
        """Reopen an ended or interrupted tuning job and start its controller."""
        service.resume(self.store, name, max_jobs)
        self._revivals.pop(name, None)
        self.start(name)
        return repo.get_tuning_job(self.store, name)

    def stop(self, name: str) -> TuningJob:
        """Ask the tuning job to stop; when no controller runs it, start one to carry the stop out.

        ``service.stop`` would run that controller in this process until the job is Stopped; a
        request must not wait that long.
        """
        job = repo.get_tuning_job(self.store, name)
        if job.terminal:
            raise ConflictError(f"tuning job {name!r} already ended ({job.status}); there is nothing to stop")
        job = repo.request_stop(self.store, name)
        if not self._running(job):
            self.start(name)
        return repo.get_tuning_job(self.store, name)

    def _running(self, job: TuningJob) -> bool:
        """A controller holds the job, or one this server started moments ago is still starting."""
        if controller_alive(job):
            return True
        pid, since = self._started.get(job.name, (0, 0.0))
        return bool(pid) and time.monotonic() - since < _START_GRACE_S and _alive(pid)

    def revive(self) -> list[str]:
        """Start a controller for every owned tuning job that has not ended and has none; returns their names."""
        revived = []
        for job in repo.list_tuning_jobs(self.store):
            if job.terminal or not _marker(self.store, job.name).exists() or self._running(job):
                continue
            if self._revivals.get(job.name, 0) >= MAX_REVIVALS:
                continue
            self._revivals[job.name] = self._revivals.get(job.name, 0) + 1
            try:
                self.start(job.name)
            except (ConflictError, NotFoundError):
                continue  # another controller took it, or it was deleted, since the list was read
            log.warning("the controller of tuning job %s was gone; started a new one", job.name)
            revived.append(job.name)
        return revived

    def supervise(self) -> None:
        """Revive dead controllers now and every ``SUPERVISE_EVERY_S`` seconds in a background thread."""
        self._thread = threading.Thread(target=self._watch, name="modeltune-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.revive()
                _reap()
            except Exception:  # noqa: BLE001 - the supervisor must outlive a store hiccup
                log.exception("supervising controllers failed; trying again")
            self._stop.wait(SUPERVISE_EVERY_S)

    def close(self) -> None:
        """Stop supervising (the controllers keep running)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie child, already ended, does not)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done = 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
    return done == 0


def _reap() -> None:
    """Collect ended controller processes this server started, so none lingers as a zombie."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
