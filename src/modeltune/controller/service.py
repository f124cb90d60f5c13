"""Operations on tuning jobs shared by the CLI, the Python API and the REST API."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from modeltune import extras
from modeltune.analytics.progress import Progress
from modeltune.artifacts import remove_models
from modeltune.controller.loop import Controller, running_elsewhere
from modeltune.controller.warm_start import check_warm_start
from modeltune.core import ExecutorName, TuningJobStatus, utcnow
from modeltune.errors import ConflictError, SpecError
from modeltune.executors import Executor
from modeltune.executors.contract import resolve_command
from modeltune.resources import Machine
from modeltune.spec import TuningJobSpec, parse_spec
from modeltune.store import Store, TuningJob
from modeltune.store import repository as repo
from modeltune.store.leases import controller_alive


def submit(store: Store, spec: TuningJobSpec) -> TuningJob:
    """Check that the spec can run here, then store it as a new InProgress tuning job.

    A missing random seed is drawn now and stored, so a restarted controller
    continues the same search.
    """
    if spec.executor == ExecutorName.ASK_TELL:
        raise SpecError(
            "executor 'ask-tell' is for tuning jobs that modeltune.Optimizer processes fill; use local or workers"
        )
    resolve_command(spec.training.command, spec.training.source_dir)
    check_warm_start(store, spec)
    if spec.executor == ExecutorName.LOCAL and spec.training.resources is not None:
        reason = Machine.detect().why_not(spec.training.resources)
        if reason is not None:
            raise SpecError(reason)
    if spec.executor == ExecutorName.RAY:
        extras.require("ray", "ray", "running training jobs on a Ray cluster needs")
    if spec.integrations.mlflow is not None:
        extras.require("mlflow", "mlflow", "recording training jobs in MLflow needs")
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
    """Run the tuning job's controller in a background process that outlives this one; returns its pid.

    Raises:
        ConflictError: a controller already runs the tuning job.
    """
    job = repo.get_tuning_job(store, name)
    if controller_alive(job):
        raise ConflictError(running_elsewhere(job))
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
    return process.pid


def stop(store: Store, name: str) -> TuningJob:
    """Ask a running tuning job to stop; its controller stops the training jobs and marks it Stopped.

    When no controller runs it (one crashed), this process runs one until the job is
    Stopped: it re-attaches to the training jobs still running, stops them (SIGTERM,
    then SIGKILL after the grace period) and records how each ended.
    """
    job = repo.get_tuning_job(store, name)
    if job.terminal:
        raise ConflictError(f"tuning job {name!r} already ended ({job.status}); there is nothing to stop")
    if TuningJobSpec.model_validate(job.spec).executor == ExecutorName.ASK_TELL:
        # No controller: the Optimizer processes start nothing more, and evaluations still running may be told.
        repo.update_tuning_job(
            store, job.id, status=TuningJobStatus.STOPPED, status_reason="stopped by request", ended_at=utcnow()
        )
        return repo.get_tuning_job(store, name)
    job = repo.request_stop(store, name)
    if not controller_alive(job):
        job = Controller(store, name).run()
    return job


def resume(store: Store, name: str, max_jobs: int | None = None) -> TuningJob:
    """Reopen an ended or interrupted tuning job, optionally with a larger budget; its history continues.

    Cloud ML's ``resumePreviousJobId``: the same spec and seed, training-job numbering
    continues, and the strategy sees every earlier training job. Training jobs that an
    interrupted controller left running are re-attached by the next controller.

    Raises:
        ConflictError: a controller still runs the job, or the budget is already spent.
    """
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    if spec.executor == ExecutorName.ASK_TELL:
        raise ConflictError(
            f"tuning job {name!r} is filled by modeltune.Optimizer processes, not a controller; continue it with "
            f"Optimizer(..., name={name!r}, load_if_exists=True)"
        )
    if controller_alive(job):
        raise ConflictError(running_elsewhere(job))
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


def delete(store: Store, name: str) -> str | None:
    """Remove an ended tuning job: its model artifacts, its rows in the store and the folders of its training jobs.

    The model artifacts go first (from a folder or an fsspec location such as s3://), so none is left
    without a record naming it unless this says so. Only folders inside this store's own jobs folder are
    removed, so files another store (or the user) keeps elsewhere are never touched.

    Returns:
        None, or one line naming the model artifacts that could not be removed (the rest is deleted anyway).
    """
    job = repo.get_tuning_job(store, name)
    if not job.terminal:
        raise ConflictError(
            f"tuning job {name!r} has not ended ({job.status}); stop it first with 'modeltune stop {name}'"
        )
    own = store.jobs_folder().resolve()
    records = repo.list_training_jobs(store, job.id)
    left = remove_models([r.artifact_uri for r in records if r.artifact_uri])
    repo.delete_tuning_job(store, job.id)
    for folder in [*(Path(r.output_dir).resolve() for r in records), own / name]:
        if folder.is_relative_to(own) and folder != own:
            shutil.rmtree(folder, ignore_errors=True)
    return left
