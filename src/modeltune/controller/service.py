"""Operations on tuning jobs shared by the CLI, the Python API and the REST API."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from modeltune.analytics.progress import Progress
from modeltune.controller.loop import HEARTBEAT_SECONDS, Controller
from modeltune.controller.warm_start import check_warm_start
from modeltune.core import TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.errors import ConflictError
from modeltune.executors import Executor
from modeltune.executors.contract import resolve_command
from modeltune.spec import TuningJobSpec, parse_spec
from modeltune.store import Store, TuningJob
from modeltune.store import repository as repo

# A controller whose heartbeat is older than this is taken for dead.
STALE_HEARTBEAT = timedelta(seconds=max(30.0, 10 * HEARTBEAT_SECONDS))


def submit(store: Store, spec: TuningJobSpec) -> TuningJob:
    """Check that the spec can run here, then store it as a new InProgress tuning job.

    A missing random seed is drawn now and stored, so a restarted controller
    continues the same search.
    """
    resolve_command(spec.training.command, spec.training.source_dir)
    check_warm_start(store, spec)
    if spec.random_seed is None:
        spec = spec.model_copy(update={"random_seed": random.SystemRandom().randrange(2**31)})
    return repo.create_tuning_job(store, spec.name, spec.model_dump(mode="json"))


def run(
    store: Store,
    name: str,
    on_progress: Callable[[Progress], None] | None = None,
    executor: Executor | None = None,
) -> TuningJob:
    """Run the tuning job's controller in this process until the job ends."""
    return Controller(store, name, executor=executor, on_progress=on_progress).run()


def start_detached(store: Store, name: str) -> int:
    """Run the tuning job's controller in a background process that outlives this one; returns its pid."""
    folder = store.jobs_folder() / name
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MODELTUNE_STORE": store.url, "MODELTUNE_HOME": str(store.home)}
    with open(folder / "controller.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "modeltune.controller", name],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    job = repo.get_tuning_job(store, name)
    repo.update_tuning_job(store, job.id, controller_pid=process.pid, controller_host=socket.gethostname())
    return process.pid


def controller_alive(job: TuningJob) -> bool:
    """Whether a controller is still running this tuning job."""
    if job.controller_pid and job.controller_host == socket.gethostname():
        return _process_running(job.controller_pid)
    return job.heartbeat_at is not None and utcnow() - job.heartbeat_at < STALE_HEARTBEAT


def _process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process on this host (a zombie, killed but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def stop(store: Store, name: str) -> TuningJob:
    """Ask a running tuning job to stop; its controller stops the training jobs and marks it Stopped.

    When no controller is alive (it crashed), the job is marked Stopped here,
    along with any training job still marked as running.
    """
    job = repo.get_tuning_job(store, name)
    if job.terminal:
        raise ConflictError(f"tuning job {name!r} already ended ({job.status}); there is nothing to stop")
    job = repo.request_stop(store, name)
    if not controller_alive(job):
        finish_orphaned(store, job)
        job = repo.get_tuning_job(store, name)
    return job


def finish_orphaned(store: Store, job: TuningJob) -> None:
    """Mark a tuning job whose controller is gone Stopped, ending what it left running on this host."""
    for training_job in repo.list_training_jobs(store, job.id):
        if training_job.status.running:
            if training_job.pid and job.controller_host == socket.gethostname():
                _kill_group(training_job.pid)
            repo.update_training_job(
                store,
                training_job.id,
                status=TrainingJobStatus.STOPPED,
                ended_at=utcnow(),
                status_reason="stopped by request after its controller had ended",
            )
    repo.update_tuning_job(
        store, job.id, status=TuningJobStatus.STOPPED, status_reason="stopped by request", ended_at=utcnow()
    )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def resume(store: Store, name: str, max_jobs: int | None = None) -> TuningJob:
    """Reopen an ended (or orphaned) tuning job, optionally with a larger budget; its history continues.

    Cloud ML's ``resumePreviousJobId``: the same spec and seed, training-job numbering
    continues, and the strategy sees every earlier training job.
    """
    job = repo.get_tuning_job(store, name)
    if not job.terminal and controller_alive(job):
        raise ConflictError(f"tuning job {name!r} is still running; stop it first with 'modeltune stop {name}'")
    spec = TuningJobSpec.model_validate(job.spec)
    done = repo.count_training_jobs(store, job.id)
    budget = max_jobs or spec.max_jobs
    if job.terminal and budget <= done:
        raise ConflictError(
            f"tuning job {name!r} already ran {done} training jobs; resume it with a larger budget, "
            f"e.g. --max-jobs {done + 10}"
        )
    data = spec.model_dump(mode="json")
    data["limits"]["max_jobs"] = budget
    updated = parse_spec(data, name)
    repo.update_tuning_job(
        store,
        job.id,
        spec=updated.model_dump(mode="json"),
        status=TuningJobStatus.IN_PROGRESS,
        status_reason=None,
        ended_at=None,
    )
    return repo.get_tuning_job(store, name)


def delete(store: Store, name: str) -> None:
    """Remove an ended tuning job: its rows in the store and its training jobs' folders."""
    job = repo.get_tuning_job(store, name)
    if not job.terminal and controller_alive(job):
        raise ConflictError(f"tuning job {name!r} is still running; stop it first with 'modeltune stop {name}'")
    repo.delete_tuning_job(store, job.id)
    shutil.rmtree(store.jobs_folder() / name, ignore_errors=True)
