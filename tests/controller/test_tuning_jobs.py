"""Tuning jobs end to end in this process: real training subprocesses and a real SQLite store."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from modeltune.analytics import describe_tuning_job
from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import toy_spec


def run_job(spec_dict: dict, progress: list | None = None) -> tuple[Store, repo.TuningJob]:
    store = Store()
    job = service.submit(store, parse_spec(spec_dict))
    done = Controller(store, job.name, on_progress=None if progress is None else progress.append).run()
    return store, done


def test_random_job_runs_every_training_job_and_keeps_every_metric(home: Path) -> None:
    progress: list = []
    store, job = run_job(toy_spec(limits={"max_jobs": 4, "max_parallel_jobs": 2}), progress)

    assert job.status == "Completed"
    jobs = repo.list_training_jobs(store, job.id)
    assert [j.name for j in jobs] == ["toy-001", "toy-002", "toy-003", "toy-004"]
    assert all(j.status == "Completed" for j in jobs)
    values = repo.metric_values(store, [j.id for j in jobs])
    for training_job in jobs:
        hp = training_job.hyperparameters
        expected = (hp["x"] - 0.3) ** 2 + 0.01 * hp["k"] + (0.1 if hp["kind"] == "b" else 0.0)
        # The final objective is the last emitted value; the earlier epoch is kept as step 1.
        assert training_job.final_objective == pytest.approx(expected)
        assert [(v.step, v.value) for v in values[training_job.id]] == [
            (1, pytest.approx(expected + 0.5)),
            (2, pytest.approx(expected)),
        ]
        assert (Path(training_job.output_dir) / "model" / "model.txt").exists()
        assert "epoch 2 loss" in Path(training_job.log_path).read_text()
    best = min(jobs, key=lambda j: j.final_objective)
    assert describe_tuning_job(store, "toy")["BestTrainingJob"]["TrainingJobName"] == best.name
    assert progress[-1].done == 4 and progress[-1].best_name == best.name
    assert max(p.running for p in progress) <= 2


def test_grid_tries_every_combination_once_and_defaults_max_jobs_to_the_grid(home: Path) -> None:
    spec = toy_spec(strategy="Grid", limits={"max_parallel_jobs": 2})
    spec["ranges"] = {
        "k": {"type": "Integer", "min": 1, "max": 3},
        "kind": {"type": "Categorical", "values": ["a", "b"]},
    }
    spec["training"]["static_hyperparameters"]["x"] = 0.3
    store, job = run_job(spec)

    combos = [(j.hyperparameters["k"], j.hyperparameters["kind"]) for j in repo.list_training_jobs(store, job.id)]
    assert sorted(combos) == [(k, kind) for k in (1, 2, 3) for kind in ("a", "b")]
    assert describe_tuning_job(store, "toy")["BestTrainingJob"]["TunedHyperParameters"] == {"k": 1, "kind": "a"}


def test_a_crashing_training_job_fails_with_its_exit_code_and_last_lines_and_the_tuning_job_goes_on(
    home: Path,
) -> None:
    spec = toy_spec(limits={"max_jobs": 3, "max_parallel_jobs": 1})
    spec["ranges"]["mode"] = {"type": "Categorical", "values": ["crash", "ok"]}
    del spec["training"]["static_hyperparameters"]["mode"]
    spec["strategy"] = "Grid"
    spec["ranges"] = {"mode": spec["ranges"]["mode"], "k": {"type": "Integer", "min": 1, "max": 2}}
    store, job = run_job(spec)

    jobs = repo.list_training_jobs(store, job.id)
    crashed = [j for j in jobs if j.hyperparameters["mode"] == "crash"]
    assert job.status == "Completed"
    assert crashed and all(j.status == "Failed" and j.exit_code == 3 for j in crashed)
    assert crashed[0].status_reason == "exit code 3: loading data | ValueError: the data is bad"
    assert any(j.status == "Completed" for j in jobs)


def test_a_training_job_that_never_emits_the_objective_fails_naming_the_regex(home: Path) -> None:
    store, job = run_job(toy_spec(mode="silent", limits={"max_jobs": 2, "max_parallel_jobs": 2}))

    jobs = repo.list_training_jobs(store, job.id)
    assert [j.status for j in jobs] == ["Failed", "Failed"]
    assert jobs[0].status_reason == (
        "the objective metric 'loss' was never emitted: its regex 'loss: (-?[0-9.eE+-]+)' matched no log line "
        "and modeltune.report never reported it"
    )
    assert job.status == "Failed"
    assert job.status_reason.startswith("every training job failed")


def test_values_reported_with_the_helper_count_like_log_values(home: Path) -> None:
    store, job = run_job(toy_spec(mode="report", limits={"max_jobs": 2, "max_parallel_jobs": 1}))

    for training_job in repo.list_training_jobs(store, job.id):
        values = repo.metric_values(store, [training_job.id])[training_job.id]
        assert [v.step for v in values] == [1, 2]
        assert training_job.status == "Completed"
        assert training_job.final_objective == pytest.approx(values[-1].value)


def test_a_training_job_over_its_runtime_limit_is_stopped_and_keeps_its_last_value(home: Path) -> None:
    spec = toy_spec(mode="sleep", limits={"max_jobs": 1, "max_parallel_jobs": 1, "max_runtime_per_training_job": 1.5})
    store, job = run_job(spec)

    (training_job,) = repo.list_training_jobs(store, job.id)
    assert training_job.status == "Stopped"
    assert training_job.status_reason == "MaxRuntimeExceeded: ran longer than the 1.5 s limit"
    assert training_job.final_objective is not None
    assert "got SIGTERM, saving checkpoint" in Path(training_job.log_path).read_text()
    assert (Path(training_job.output_dir) / "model" / "checkpoint").read_text() == "saved"
    assert training_job.elapsed_seconds < 10


def test_a_stop_request_stops_running_training_jobs_with_sigterm_then_sigkill(home: Path) -> None:
    spec = toy_spec(mode="stubborn", limits={"max_jobs": 4, "max_parallel_jobs": 2})
    spec["training"]["stop_grace_seconds"] = 1
    store = Store()
    job = service.submit(store, parse_spec(spec))
    controller = Controller(store, job.name)
    logs = [store.jobs_folder() / "toy" / f"toy-00{n}" / "output.log" for n in (1, 2)]

    def stop_once_both_print() -> None:  # the SIGTERM handler is installed before the first line
        while not all(log.exists() and "loss" in log.read_text() for log in logs):
            time.sleep(0.05)
        controller.request_stop()

    threading.Thread(target=stop_once_both_print, daemon=True).start()
    done = controller.run()

    assert done.status == "Stopped"
    jobs = repo.list_training_jobs(store, job.id)
    assert len(jobs) == 2
    for training_job in jobs:
        assert training_job.status == "Stopped"
        assert training_job.exit_code == -9  # ignored SIGTERM, so SIGKILL after the grace period
        assert "got SIGTERM" in Path(training_job.log_path).read_text()
