"""A stored ask/tell tuning job as one process uses it: settings, trials, attributes, early stopping, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modeltune import Optimizer
from modeltune.errors import ConflictError, SearchEnded, SpecError
from modeltune.optimizer import Trial
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import modeltune_cli

RANGES: dict[str, Any] = {
    "lr": {"type": "Continuous", "min": 1e-4, "max": 1.0, "scaling": "Logarithmic"},
    "depth": {"type": "Integer", "min": 1, "max": 8},
}


def test_settings_that_differ_from_the_stored_job_are_refused_in_one_line(url: str, tmp_path: Path) -> None:
    store = Store(url, home=tmp_path / "home")
    with Optimizer(RANGES, "Minimize", "Random", random_seed=1, name="study", store=store, max_jobs=10) as first:
        first.optimize(lambda hp: hp["lr"], n_trials=2)
    stored = repo.get_tuning_job(store, "study").spec

    wider = {**RANGES, "depth": {"type": "Integer", "min": 1, "max": 9}}
    attempts: list[tuple[dict[str, Any], str]] = [
        ({"ranges": wider}, "other settings for range 'depth' (min: 1, max: 8, scaling: Auto, type: Integer)"),
        ({"ranges": {"lr": RANGES["lr"]}}, "a range 'depth' that is not given here"),
        ({"objective_type": "Maximize"}, "other objective (metric: objective, type: Minimize)"),
        ({"strategy": "Bayesian"}, "other strategy (Random)"),
        ({"max_jobs": 20}, "max_jobs 10"),
        ({"random_seed": 2}, "random_seed 1"),
    ]
    for change, difference in attempts:
        arguments: dict[str, Any] = {"ranges": RANGES, "objective_type": "Minimize", "strategy": "Random", **change}
        with pytest.raises(SpecError) as refused:
            Optimizer(**arguments, name="study", store=store, load_if_exists=True)
        assert str(refused.value) == (
            f"tuning job 'study' in the store has {difference}; create the Optimizer with the stored settings or "
            "choose another name"
        )
    with pytest.raises(ConflictError, match="already exists in the store; pass load_if_exists=True"):
        Optimizer(RANGES, "Minimize", "Random", name="study", store=store)

    assert repo.get_tuning_job(store, "study").spec == stored  # nothing refused changed the job
    # Without a seed or a budget, the stored ones hold; the job continues where it was.
    with Optimizer(RANGES, "Minimize", "Random", name="study", store=store, load_if_exists=True) as again:
        assert again.optimize(lambda hp: hp["lr"], n_trials=3) == 3
        assert [o.number for o in again.history] == [1, 2, 3, 4, 5]


def test_a_training_command_job_is_not_taken_for_an_optimizer(home: Path) -> None:
    spec = {
        "name": "cmd",
        "training": {"command": ["python", "train.py"]},
        "objective": {"metric": "objective", "type": "Minimize"},
        "ranges": RANGES,
    }
    repo.create_tuning_job(Store(), "cmd", spec)
    with pytest.raises(ConflictError, match="runs the training command 'python train.py', not ask/tell"):
        Optimizer(RANGES, "Minimize", name="cmd", load_if_exists=True)


def test_trials_carry_attributes_and_the_best_is_found_from_any_process(home: Path) -> None:
    def objective(hyperparameters: dict[str, Any], trial: Trial) -> float:
        assert trial.output_dir is not None and trial.output_dir.is_dir()
        trial.set_attribute("model", str(trial.output_dir / "model.txt"))
        return abs(hyperparameters["lr"] - 0.01) + hyperparameters["depth"] / 100

    with Optimizer(RANGES, "Minimize", "Bayesian", random_seed=0, name="attrs", max_jobs=12) as optimizer:
        assert optimizer.optimize(objective, n_trials=10) == 10
        trial = optimizer.ask_trial()
        optimizer.tell(trial, 5.0, attributes={"note": "by hand"})
    with Optimizer(RANGES, "Minimize", "Bayesian", name="attrs", load_if_exists=True) as other:
        best = other.best
        frame = other.trials_dataframe()
    assert best is not None and best.name is not None and best.attributes is not None
    assert best.attributes["model"].endswith(f"{best.name}/model.txt")
    assert best.value == min(frame["FinalObjectiveValue"])
    assert list(frame["attr:note"].dropna()) == ["by hand"]
    assert frame["attr:model"].notna().sum() == 10

    described = json.loads(modeltune_cli("describe", "attrs", "--json", check=True).stdout)
    assert described["BestTrainingJob"]["TrainingJobName"] == best.name
    assert described["TrainingJobStatusCounters"]["Completed"] == 11
    listed = modeltune_cli("training-jobs", "attrs", check=True).stdout
    assert "attrs-011" in listed and "InProgress" not in listed


def test_budget_spent_ends_the_job_and_no_evaluation_starts(home: Path) -> None:
    with Optimizer(RANGES, "Minimize", "Random", name="budget", max_jobs=3) as optimizer:
        asked = optimizer.ask(5)
        assert len(asked) == 3 and optimizer.ask() == []
        for hp in asked[:2]:
            optimizer.tell(hp, 1.0)
        assert repo.get_tuning_job(Store(), "budget").status == "InProgress"  # one still runs
        optimizer.tell(asked[2], None)
        with pytest.raises(SearchEnded, match="has ended \\(Completed\\)"):
            optimizer.ask_trial()
    job = repo.get_tuning_job(Store(), "budget")
    assert job.status == "Completed"
    assert [r.status for r in repo.list_training_jobs(Store(), job.id)] == ["Completed", "Completed", "Failed"]


def test_a_failing_objective_fails_its_evaluation_with_the_reason(home: Path) -> None:
    def objective(hyperparameters: dict[str, Any]) -> float:
        if hyperparameters["depth"] > 4:
            raise ValueError("depth too large for this data")
        return hyperparameters["lr"]

    with Optimizer(RANGES, "Minimize", "Random", random_seed=4, name="fails") as optimizer:
        ran = optimizer.optimize(objective, n_trials=8, catch=(ValueError,))
        assert ran == 8
        with pytest.raises(ZeroDivisionError):
            optimizer.optimize(lambda hp: 1 / 0, n_trials=1)
    records = repo.list_training_jobs(Store(), repo.get_tuning_job(Store(), "fails").id)
    failed = [r for r in records if r.status == "Failed"]
    assert {r.status_reason for r in failed[:-1]} == {"ValueError: depth too large for this data"}
    assert all(r.hyperparameters["depth"] > 4 for r in failed[:-1])
    assert failed[-1].status_reason == "ZeroDivisionError: division by zero" and failed[-1].number == 9
    assert all(r.status == "Completed" for r in records if r not in failed)


def test_early_stopping_stops_poor_evaluations_from_their_reports(home: Path) -> None:
    def objective(hyperparameters: dict[str, Any], trial: Trial) -> float:
        value = 0.0
        for step in range(1, 6):
            value = hyperparameters["depth"] + 1 / step  # deeper is worse, at every step
            trial.report(step, value)
            if trial.should_stop():
                break
        return value

    early = {"type": "Auto", "min_steps": 2, "min_peers": 2}
    with Optimizer(RANGES, "Minimize", "Random", 5, early, name="early", max_jobs=16) as optimizer:
        optimizer.optimize(objective, n_trials=16)
    store = Store()
    records = repo.list_training_jobs(store, repo.get_tuning_job(store, "early").id)
    stopped = [r for r in records if r.status == "Stopped"]
    assert stopped and all(r.final_objective is not None and r.status_reason for r in stopped)
    completed_depths = [r.hyperparameters["depth"] for r in records if r.status == "Completed"]
    assert min(r.hyperparameters["depth"] for r in stopped) > min(completed_depths)
    curves = repo.metric_values(store, [r.id for r in records])
    assert all(len(curves[r.id]) == 5 for r in records if r.status == "Completed")
    assert all(len(curves[r.id]) < 5 for r in stopped)


def test_stop_ends_the_job_and_resume_points_to_the_optimizer(home: Path) -> None:
    with Optimizer(RANGES, "Minimize", "Random", name="halt") as optimizer:
        running = optimizer.ask()
        modeltune_cli("stop", "halt", check=True)
        assert optimizer.ask() == []
        optimizer.tell(running[0], 0.5)  # an evaluation running at the stop is still recorded
    resumed = modeltune_cli("resume", "halt")
    assert resumed.returncode == 2
    assert resumed.stderr.strip() == (
        "error: tuning job 'halt' is filled by modeltune.Optimizer processes, not a controller; continue it with "
        "Optimizer(..., name='halt', load_if_exists=True)"
    )
    job = repo.get_tuning_job(Store(), "halt")
    assert job.status == "Stopped"
    assert [r.status for r in repo.list_training_jobs(Store(), job.id)] == ["Completed"]


def test_the_last_tell_of_the_budget_completes_the_job_whichever_process_makes_it(home: Path) -> None:
    first = Optimizer(RANGES, "Minimize", "Random", name="two", max_jobs=2)
    second = Optimizer(RANGES, "Minimize", "Random", name="two", load_if_exists=True)
    early = first.ask_trial()
    assert second.optimize(lambda hp: 1.0, n_trials=1) == 1  # took the budget's last evaluation
    second.close()
    assert repo.get_tuning_job(Store(), "two").status == "InProgress"  # the first one still runs
    first.tell(early, 2.0)  # this process never saw the budget spent
    assert repo.get_tuning_job(Store(), "two").status == "Completed"
    first.close()


def test_a_tell_after_the_evaluation_was_ended_elsewhere_is_refused(home: Path) -> None:
    with Optimizer(RANGES, "Minimize", "Random", name="late") as optimizer:
        trial = optimizer.ask_trial()
        store = Store()
        assert trial.name is not None
        record = repo.get_training_job(store, repo.get_tuning_job(store, "late"), trial.name)
        repo.update_training_job(store, record.id, status="Failed", status_reason="worker lost: expired", owner=None)
        with pytest.raises(ConflictError) as refused:
            optimizer.tell(trial, 1.0)
    assert str(refused.value) == (
        "training job 'late-001' already ended Failed (worker lost: expired); its result is not recorded"
    )
    assert repo.get_training_job_by_id(store, record.id).final_objective is None


def test_hyperband_decides_how_long_each_shared_evaluation_runs(home: Path) -> None:
    def objective(hyperparameters: dict[str, Any], trial: Trial) -> float:
        value = 0.0
        for step in range(1, 10):
            value = hyperparameters["depth"] + 1 / step
            trial.report(step, value)
            if trial.should_stop():
                break
        return value

    hyperband = {"min_resource": 1, "max_resource": 9, "reduction_factor": 3, "sampler": "Random"}
    with Optimizer(RANGES, "Minimize", "Hyperband", 3, hyperband=hyperband, name="hb", max_jobs=15) as optimizer:
        assert optimizer.optimize(objective, n_trials=20) == 15
    store = Store()
    job = repo.get_tuning_job(store, "hb")
    records = repo.list_training_jobs(store, job.id)
    curves = repo.metric_values(store, [r.id for r in records])
    steps = {r.name: len(curves[r.id]) for r in records}
    assert job.status == "Completed" and {r.status for r in records} <= {"Completed", "Stopped"}
    assert min(steps.values()) < 9  # some were stopped at a lower rung
    assert all(steps[r.name] == 9 for r in records if r.status == "Completed")


def test_a_job_no_process_asks_for_now_is_waiting_not_interrupted(home: Path) -> None:
    code = (
        "from modeltune import Optimizer\n"
        "with Optimizer({'x': {'type': 'Continuous', 'min': 0, 'max': 1}}, 'Minimize', 'Random', name='gone',"
        " max_jobs=5) as optimizer:\n"
        "    optimizer.optimize(lambda hp: hp['x'], n_trials=2)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

    described = json.loads(modeltune_cli("describe", "gone", "--json", check=True).stdout)
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    assert "StatusReason" not in described  # no 'interrupted ... modeltune resume': Optimizers continue it
    assert json.loads(modeltune_cli("list", "--json", check=True).stdout)[0]["Interrupted"] is False
