"""Workers on a shared store: real controller and worker processes, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeltune.store import Store, work
from modeltune.store import repository as repo
from store.backends import BACKENDS, Backend

from helpers import toy_spec, write_spec


def environment(url: str, home: Path, lease: float | None = None) -> dict[str, str]:
    """Processes on ``url``; ``lease``: seconds a silent worker keeps its training jobs (15 by default)."""
    env = {**os.environ, "MODELTUNE_STORE": url, "MODELTUNE_HOME": str(home)}
    if lease is not None:
        env["MODELTUNE_WORK_LEASE_SECONDS"] = str(lease)
    env.pop("PYTHONPATH", None)
    return env


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modeltune", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def start_workers(env: dict[str, str], count: int, cwd: Path, *args: str) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-m", "modeltune", "worker", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def wait_for_end(store: Store, name: str, timeout: float = 240) -> repo.TuningJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = repo.get_tuning_job(store, name)
        if job.terminal:
            return job
        time.sleep(0.3)
    raise AssertionError(f"tuning job {name} did not end in {timeout} s")


def most_at_once(jobs: list[repo.TrainingJob]) -> int:
    edges = sorted([(j.started_at, 1) for j in jobs if j.started_at] + [(j.ended_at, -1) for j in jobs if j.ended_at])
    running = most = 0
    for _, change in edges:
        running += change
        most = max(most, running)
    return most


@pytest.fixture(params=sorted(BACKENDS))
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of each kind, as a URL (dropped afterwards)."""
    databases = BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    backend: Backend = next(databases)
    yield backend.shared_url or backend.new_url()
    databases.close()


@pytest.mark.slow
def test_eight_workers_run_every_training_job_exactly_once_within_the_parallel_limit(
    shared: str, tmp_path: Path
) -> None:
    env = environment(shared, tmp_path / "controller")
    spec = toy_spec(name="many", strategy="Random", limits={"max_jobs": 500, "max_parallel_jobs": 16})
    spec["training"]["command"] = ["sh", "-c", 'echo "loss: $6"', "sh"]  # argv ends with -x VALUE
    spec["ranges"] = {"x": {"type": "Continuous", "min": 0.0, "max": 1.0}}
    spec["training"]["static_hyperparameters"] = {"a": 1, "b": 2}
    spec["executor"] = "workers"
    assert cli(env, "run", str(write_spec(tmp_path, spec)), "--detach").returncode == 0
    workers = start_workers(env, 8, tmp_path, "--slots", "2", "--max-idle", "5")

    store = Store(shared, home=tmp_path / "reader")
    job = wait_for_end(store, "many")
    for worker in workers:
        assert worker.wait(timeout=60) == 0, worker.stderr.read() if worker.stderr else ""

    jobs = repo.list_training_jobs(store, job.id)
    assert job.status == "Completed"
    assert len(jobs) == 500
    assert [j for j in jobs if j.status != "Completed"] == []
    assert all(j.final_objective == pytest.approx(j.hyperparameters["x"]) for j in jobs)
    values = repo.metric_values(store, [j.id for j in jobs])
    assert all(len(values[j.id]) == 1 for j in jobs)  # each ran once: one value each
    assert len({j.owner for j in jobs}) > 1
    assert most_at_once(jobs) <= 16


@pytest.mark.slow
def test_a_killed_worker_is_noticed_and_its_training_job_retried_elsewhere(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = environment(url, tmp_path / "controller", lease=5)
    spec = toy_spec(mode="sleep", limits={"max_jobs": 2, "max_parallel_jobs": 2})
    spec["training"]["static_hyperparameters"]["seconds"] = 3
    spec["training"]["max_retry_attempts"] = 1
    spec["executor"] = "workers"
    assert cli(env, "run", str(write_spec(tmp_path, spec)), "--detach").returncode == 0
    [doomed] = start_workers(env, 1, tmp_path, "--slots", "1")
    store = Store(url, home=tmp_path / "reader")
    deadline = time.monotonic() + 60
    while not any(
        j.status == "InProgress" for j in repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    survivors = start_workers(env, 1, tmp_path, "--slots", "2", "--max-idle", "8")

    job = wait_for_end(store, "toy")

    jobs = repo.list_training_jobs(store, job.id)
    lost = [j for j in jobs if j.status == "Failed"]
    assert len(lost) == 1 and lost[0].status_reason.startswith("worker lost: ")
    assert lost[0].retryable
    retry = next(j for j in jobs if j.retry_of == lost[0].id)
    assert retry.status == "Completed" and retry.hyperparameters == lost[0].hyperparameters
    assert job.status == "Completed" and repo.count_training_jobs(store, job.id) == 2
    assert survivors[0].wait(timeout=60) == 0


@pytest.mark.slow
def test_a_stop_reaches_the_worker_and_code_comes_from_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = environment(url, tmp_path / "controller")
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "toy_train.py", code / "train.py")
    spec = toy_spec(mode="sleep", limits={"max_jobs": 2, "max_parallel_jobs": 2})
    spec["training"].update(command=["python", "train.py"], source_dir=str(code))
    spec["training"]["static_hyperparameters"]["seconds"] = 60
    spec["executor"] = "workers"
    assert cli(env, "run", str(write_spec(tmp_path, spec)), "--detach").returncode == 0
    store = Store(url, home=tmp_path / "reader")
    packed = time.monotonic() + 60
    while work.code_package_digest(store, repo.get_tuning_job(store, "toy").id) is None:  # the controller packs it
        assert time.monotonic() < packed, "the controller did not store the code"
        time.sleep(0.1)
    shutil.rmtree(code)  # as on another machine: the workers only have what the store holds
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    worker_env = {**env, "MODELTUNE_HOME": str(elsewhere / "home")}
    workers = start_workers(worker_env, 1, elsewhere, "--slots", "2", "--max-idle", "3")
    deadline = time.monotonic() + 60
    while (
        sum(j.status == "InProgress" for j in repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)) < 2
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.0)

    started = time.monotonic()
    stopped = cli(env, "stop", "toy")

    assert stopped.returncode == 0, stopped.stderr
    assert time.monotonic() - started < 15
    jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)
    assert [j.status for j in jobs] == ["Stopped", "Stopped"]
    assert all(str(elsewhere / "home") in j.output_dir for j in jobs)
    logs = json.loads(cli(env, "training-jobs", "toy", "--json").stdout)
    assert len(logs) == 2
    shipped = cli({**env, "MODELTUNE_HOME": str(tmp_path / "third")}, "logs", "toy", "1").stdout
    assert "got SIGTERM, saving checkpoint" in shipped  # read from the store: the file is on the worker
    assert workers[0].wait(timeout=60) == 0
    # The worker kept the stopped jobs' models on its machine, and the store says where.
    jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)
    assert all(j.artifact_uri == f"{j.output_dir}/output/model.tar.gz" for j in jobs), jobs
    assert all(Path(j.artifact_uri).is_file() for j in jobs if j.artifact_uri)


def test_a_worker_against_a_bad_store_is_one_line(tmp_path: Path) -> None:
    result = cli(environment("postgresql+psycopg://nobody:pw@127.0.0.1:1/none", tmp_path), "worker", "--max-idle", "1")

    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot open the store postgresql+psycopg://nobody:***@127.0.0.1:1/none (")
