"""Many processes on one ask/tell tuning job, on SQLite, PostgreSQL and MariaDB: real processes, real servers."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from modeltune.core import TrainingJobStatus, TuningJobStatus
from modeltune.store import Store
from modeltune.store import repository as repo
from store.backends import Backend

from .conftest import environment, start


def finish(process: subprocess.Popen[str], timeout: float = 120) -> list[dict[str, object]]:
    """Wait for a study process; the evaluations it told, as it printed them."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_processes_created_at_once_fill_one_job_exactly(
    backend: Backend, url: str, tmp_path: Path, strategy: str
) -> None:
    if strategy == "Bayesian" and backend.name != "postgresql":
        pytest.skip("the Bayesian strategy shares the same locking; one server is enough")
    processes = 4 if backend.name == "sqlite" or strategy == "Bayesian" else 8
    budget = processes * 5
    env = environment(tmp_path / "home")
    # Each process would run 8 evaluations: together they ask for more than the budget.
    running = [start(env, url, "shared", strategy, 8, budget, 0.02) for _ in range(processes)]
    told = [line for process in running for line in finish(process)]

    store = Store(url, home=tmp_path / "home")
    assert [j.name for j in repo.list_tuning_jobs(store)] == ["shared"]  # one job, though all created it at once
    job = repo.get_tuning_job(store, "shared")
    records = repo.list_training_jobs(store, job.id)
    assert len(records) == budget and len(told) == budget
    assert [r.number for r in records] == list(range(1, budget + 1))
    points = [(r.hyperparameters["x"], r.hyperparameters["kind"]) for r in records]
    assert len(set(points)) == budget, "two processes evaluated the same point"
    assert all(r.status == TrainingJobStatus.COMPLETED for r in records)
    stored = {r.name: (r.hyperparameters, r.final_objective) for r in records}
    assert {t["told"]: (t["hyperparameters"], t["value"]) for t in told} == stored  # no tell lost
    assert all(r.attributes and r.attributes["pid"] for r in records)
    assert job.status == TuningJobStatus.COMPLETED


def test_a_process_killed_mid_evaluation_is_lost_and_the_search_goes_on(
    backend: Backend, url: str, tmp_path: Path
) -> None:
    env = environment(tmp_path / "home", lease=1.5)
    doomed = start(env, url, "killed", "Random", 1, 10, 0, "hang")
    assert doomed.stdout is not None
    started = json.loads(doomed.stdout.readline())["started"]
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)

    # The survivor's evaluations take longer than the lease, so its heartbeat sees the other one lost.
    survivor = finish(start(env, url, "killed", "Random", 9, 10, 0.4))
    store = Store(url, home=tmp_path / "home")
    records = {r.name: r for r in repo.list_training_jobs(store, repo.get_tuning_job(store, "killed").id)}
    lost = records.pop(started)
    assert lost.status == TrainingJobStatus.FAILED and "lost" in (lost.status_reason or "")
    assert sorted(t["told"] for t in survivor) == sorted(records) and len(records) == 9
    assert all(r.status == TrainingJobStatus.COMPLETED for r in records.values())
    assert repo.get_tuning_job(store, "killed").status == TuningJobStatus.COMPLETED


def test_processes_wait_on_no_other_process_evaluation(backend: Backend, url: str, tmp_path: Path) -> None:
    """A process whose evaluation hangs does not hold up the others' asks."""
    if backend.name == "mariadb":
        pytest.skip("the same locking as PostgreSQL; one server is enough for this timing-free check")
    env = environment(tmp_path / "home")
    slow = start(env, url, "hung", "Random", 1, 100, 0, "hang")
    assert slow.stdout is not None
    json.loads(slow.stdout.readline())
    try:
        fast = finish(start(env, url, "hung", "Random", 5, 100, 0), timeout=60)
    finally:
        slow.kill()
        slow.wait(timeout=10)
    assert len(fast) == 5
