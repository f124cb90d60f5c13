"""Early stopping and Hyperband live: real training processes stopped mid-curve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.errors import SpecError
from modeltune.spec import parse_spec
from modeltune.stopping.successive_halving import bracket_of
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import toy_spec


def epochs_spec(**overrides) -> dict:
    spec = toy_spec(mode="epochs", **overrides)
    spec["training"]["static_hyperparameters"].update(epochs=9, seconds=0.15)
    spec["training"]["metric_definitions"] = [{"name": "loss", "regex": r"epoch (?P<step>\d+) loss: ([0-9.eE+-]+)"}]
    spec["training"]["stop_grace_seconds"] = 2
    return spec


def run(spec: dict) -> tuple[Store, repo.TuningJob]:
    store = Store()
    job = service.submit(store, parse_spec(spec))
    return store, Controller(store, job.name).run()


def epochs_run(training_job: repo.TrainingJob) -> int:
    return len(re.findall(r"^epoch \d+ loss", Path(training_job.log_path).read_text(), flags=re.M))


def test_auto_stops_losing_training_jobs_live_and_keeps_their_values(home: Path) -> None:
    spec = epochs_spec(
        limits={"max_jobs": 8, "max_parallel_jobs": 1},
        early_stopping={"type": "Auto", "min_steps": 2, "min_peers": 2},
        random_seed=3,
    )
    store, job = run(spec)

    jobs = repo.list_training_jobs(store, job.id)
    stopped = [j for j in jobs if j.status == "Stopped"]
    assert job.status == "Completed"
    assert stopped, "the median rule stopped no training job"
    for training_job in stopped:
        assert training_job.status_reason.startswith("early stopping (median rule): its best value ")
        values = repo.metric_values(store, [training_job.id])[training_job.id]
        assert 2 <= len(values) < 9 and epochs_run(training_job) < 9  # the process really ended early
        assert training_job.final_objective == values[-1].value
    completed = [j for j in jobs if j.status == "Completed"]
    assert all(epochs_run(j) == 9 for j in completed)
    best = min(j.final_objective for j in jobs)
    assert best == min(j.final_objective for j in completed)


def test_hyperband_stops_at_rungs_and_completes_the_best_at_max_resource(home: Path) -> None:
    spec = epochs_spec(
        strategy="Hyperband",
        hyperband={"min_resource": 1, "max_resource": 9, "reduction_factor": 3, "sampler": "Random"},
        limits={"max_jobs": 10, "max_parallel_jobs": 2},
        random_seed=5,
    )
    store, job = run(spec)

    jobs = repo.list_training_jobs(store, job.id)
    stopped = [j for j in jobs if j.status == "Stopped"]
    assert stopped and all(epochs_run(j) < 9 for j in stopped)
    for training_job in stopped:
        bracket = bracket_of(training_job.number, 5, 3, 3)
        assert re.match(rf"Hyperband: at rung (1|3) of bracket {bracket} its value ", training_job.status_reason)
    assert all(epochs_run(j) == 9 for j in jobs if j.status == "Completed")
    resource = sum(epochs_run(j) for j in jobs)
    assert resource < 9 * len(jobs)


def test_a_resumed_hyperband_job_keeps_each_training_job_in_its_bracket(home: Path) -> None:
    spec = epochs_spec(
        strategy="Hyperband",
        hyperband={"min_resource": 1, "max_resource": 9, "sampler": "Random"},
        limits={"max_jobs": 4, "max_parallel_jobs": 2},
        random_seed=9,
    )
    store, job = run(spec)
    service.resume(store, job.name, max_jobs=8)
    Controller(store, job.name).run()

    jobs = repo.list_training_jobs(store, job.id)
    assert [j.number for j in jobs] == list(range(1, 9))
    for training_job in jobs:
        if training_job.status == "Stopped":
            assert f"of bracket {bracket_of(training_job.number, 9, 3, 3)} " in training_job.status_reason


BAD = [
    (
        {"strategy": "Hyperband"},
        "Hyperband needs its resources in steps, e.g. hyperband: {min_resource: 1, max_resource: 27}",
    ),
    (
        {"strategy": "Hyperband", "hyperband": {"min_resource": 9, "max_resource": 3}},
        "hyperband: min_resource (9) must be less than max_resource (3)",
    ),
    (
        {"strategy": "Hyperband", "hyperband": {"min_resource": 1, "max_resource": 9}, "early_stopping": "Auto"},
        "Hyperband stops training jobs itself; set early_stopping to Off",
    ),
    (
        {"strategy": "Grid", "early_stopping": "Auto"},
        "Grid search runs every combination to the end; use Random or Bayesian with early stopping",
    ),
    (
        {"hyperband": {"min_resource": 1, "max_resource": 9}},
        "hyperband settings apply only to strategy Hyperband, not Random; remove them",
    ),
    ({"early_stopping": "Sometimes"}, "early_stopping.type: input should be 'Off' or 'Auto', got 'Sometimes'"),
]


@pytest.mark.parametrize(("changes", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_early_stopping_settings_are_one_sentence(changes: dict, message: str) -> None:
    spec = toy_spec()
    spec["ranges"]["x"]["grid_points"] = 3
    spec.update(changes)

    with pytest.raises(SpecError) as error:
        parse_spec(spec, "spec.yaml")

    assert str(error.value) == f"spec.yaml: {message}"
