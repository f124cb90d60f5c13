"""The controller's decisions with an in-process executor: budgets, stopping, retries, completion, recovery."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from modeltune.analytics import describe_tuning_job
from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.core import TrainingJobStatus
from modeltune.errors import ConflictError
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from .fake_executor import FakeExecutor, Script, curve_script
from helpers import toy_spec


def toy_loss(hp: dict[str, Any]) -> float:
    return (hp["x"] - 0.3) ** 2 + 0.01 * hp["k"] + (0.1 if hp["kind"] == "b" else 0.0)


def submit(store: Store, **overrides: Any) -> str:
    spec = toy_spec(**overrides)
    return service.submit(store, parse_spec(spec)).name


def run(store: Store, name: str, executor: FakeExecutor) -> repo.TuningJob:
    return Controller(store, name, executor=executor, poll_seconds=0).run()


def jobs_of(store: Store, name: str) -> list[repo.TrainingJob]:
    return repo.list_training_jobs(store, repo.get_tuning_job(store, name).id)


@pytest.fixture
def store(home: Path) -> Store:
    return Store()


def test_the_budget_and_the_parallel_limit_hold(store: Store) -> None:
    executor = FakeExecutor(curve_script(lambda hp: [toy_loss(hp) + 1, toy_loss(hp)]))
    name = submit(store, limits={"max_jobs": 7, "max_parallel_jobs": 3})

    job = run(store, name, executor)

    assert job.status == "Completed"
    assert len(jobs_of(store, name)) == 7 == len(executor.launched)
    assert executor.most_concurrent == 3
    assert all(j.final_objective == pytest.approx(toy_loss(j.hyperparameters)) for j in jobs_of(store, name))


def test_the_median_rule_stops_losing_jobs_and_keeps_their_curves(store: Store) -> None:
    # Every job's curve falls; half of them start from far worse values.
    def curve(hp: dict[str, Any]) -> list[float]:
        offset = 5.0 if hp["kind"] == "b" else 0.0
        return [toy_loss(hp) + offset + 1.0 / epoch for epoch in range(1, 9)]

    name = submit(store, limits={"max_jobs": 12, "max_parallel_jobs": 1}, early_stopping="Auto")

    run(store, name, FakeExecutor(curve_script(curve)))

    jobs = jobs_of(store, name)
    stopped = [j for j in jobs if j.status == "Stopped"]
    assert stopped and all(j.hyperparameters["kind"] == "b" for j in stopped)
    assert all(j.status_reason and j.status_reason.startswith("early stopping (median rule)") for j in stopped)
    assert all(j.final_objective is not None for j in stopped)
    values = repo.metric_values(store, [j.id for j in stopped])
    assert all(3 <= len(values[j.id]) < 8 for j in stopped)


def test_a_job_killed_by_a_signal_it_did_not_ask_for_is_retried_without_spending_the_budget(store: Store) -> None:
    attempts: dict[float, int] = {}

    def flaky(hp: dict[str, Any]) -> Script:
        attempts[hp["x"]] = attempts.get(hp["x"], 0) + 1
        if attempts[hp["x"]] == 1 and len(attempts) == 2:  # the second configuration dies once (OOM killer)
            return Script(["loss: 9"], exit_code=-9)
        return Script([f"loss: {toy_loss(hp)}"])

    name = submit(store, limits={"max_jobs": 3, "max_parallel_jobs": 1})
    spec = repo.get_tuning_job(store, name).spec
    spec["training"]["max_retry_attempts"] = 2
    repo.update_tuning_job(store, repo.get_tuning_job(store, name).id, spec=spec)

    job = run(store, name, FakeExecutor(flaky))

    jobs = jobs_of(store, name)
    assert job.status == "Completed"
    assert [j.status for j in jobs] == ["Completed", "Failed", "Completed", "Completed"]
    failed, retry = jobs[1], jobs[2]
    assert failed.retryable and failed.status_reason.startswith("killed by signal 9")
    assert retry.retry_of == failed.id and retry.hyperparameters == failed.hyperparameters
    assert repo.count_training_jobs(store, job.id) == 3
    assert describe_tuning_job(store, name)["TrainingJobStatusCounters"]["Completed"] == 3


def test_a_failure_of_the_code_itself_is_not_retried(store: Store) -> None:
    name = submit(store, limits={"max_jobs": 2, "max_parallel_jobs": 1})
    spec = repo.get_tuning_job(store, name).spec
    spec["training"]["max_retry_attempts"] = 3
    repo.update_tuning_job(store, repo.get_tuning_job(store, name).id, spec=spec)

    run(store, name, FakeExecutor(lambda hp: Script(["ValueError: bad data"], exit_code=1)))

    assert [(j.status, j.retryable) for j in jobs_of(store, name)] == [("Failed", False)] * 2


def test_max_failed_jobs_fails_the_tuning_job_before_the_budget_is_burnt(store: Store) -> None:
    executor = FakeExecutor(lambda hp: Script(["Traceback: boom"], exit_code=1))
    name = submit(store, limits={"max_jobs": 50, "max_parallel_jobs": 2, "max_failed_jobs": 4})

    job = run(store, name, executor)

    assert job.status == "Failed"
    assert job.status_reason == "4 training jobs failed, reaching limits.max_failed_jobs"
    assert 4 <= len(executor.launched) <= 5


@pytest.mark.parametrize(
    ("criteria", "reason"),
    [
        ({"target_objective_value": 0.5}, "reached the target objective value 0.5"),
        (
            {"best_objective_not_improving": {"max_number_of_training_jobs_not_improving": 3}},
            "did not improve in the last 3 training jobs",
        ),
    ],
)
def test_completion_criteria_end_the_job_early_and_say_why(store: Store, criteria: dict, reason: str) -> None:
    values = iter([0.9, 0.4, 0.6, 0.7, 0.8, 0.95, 0.3, 0.2])
    name = submit(store, limits={"max_jobs": 8, "max_parallel_jobs": 1}, completion_criteria=criteria)

    job = run(store, name, FakeExecutor(lambda hp: Script([f"loss: {next(values)}"])))

    assert job.status == "Completed" and reason in (job.status_reason or "")
    assert len(jobs_of(store, name)) < 8
    details = describe_tuning_job(store, name)["TuningJobCompletionDetails"]
    assert details["NumberOfTrainingJobsObjectiveNotImproving"] >= 0


def test_convergence_ends_a_search_that_keeps_finding_the_same_best(store: Store) -> None:
    values = iter([1.0, 0.5, 0.2] + [0.2 + 0.01 * i for i in range(1, 100)])
    criteria = {"convergence_detected": {"complete_on_convergence": "Enabled"}}
    name = submit(store, limits={"max_jobs": 60, "max_parallel_jobs": 1}, completion_criteria=criteria)

    job = run(store, name, FakeExecutor(lambda hp: Script([f"loss: {next(values)}"])))

    assert job.status == "Completed" and "converged" in (job.status_reason or "")
    assert len(jobs_of(store, name)) == 20  # max(20, 5 x 3 hyperparameters)
    assert "ConvergenceDetectedTime" in describe_tuning_job(store, name)["TuningJobCompletionDetails"]


@pytest.mark.parametrize(
    ("lines", "status", "reason"),
    [
        (["loss: 0.5", "loss: nan"], "Failed", "objective value is nan at step 2"),
        (["loss: 0.5", "loss: inf"], "Failed", "objective value is inf at step 2"),
        (["loss: nan", "loss: 0.25"], "Completed", "left out values that are not finite numbers: loss (1 from step 1)"),
    ],
)
def test_a_non_finite_objective_fails_the_job_only_when_it_is_the_last_value(
    store: Store, lines: list[str], status: str, reason: str
) -> None:
    spec_changes = {"limits": {"max_jobs": 1, "max_parallel_jobs": 1}}
    name = submit(store, **spec_changes)
    spec = repo.get_tuning_job(store, name).spec
    spec["training"]["metric_definitions"] = [{"name": "loss", "regex": r"loss: (\S+)"}]
    repo.update_tuning_job(store, repo.get_tuning_job(store, name).id, spec=spec)

    run(store, name, FakeExecutor(lambda hp: Script(lines)))

    [job] = jobs_of(store, name)
    assert (job.status, job.status_reason) == (status, reason)
    stored = repo.metric_values(store, [job.id])[job.id]
    assert all(math.isfinite(v.value) for v in stored)
    assert job.final_objective in (None, 0.25)


def test_a_new_controller_reattaches_to_what_a_crashed_one_left_running(store: Store) -> None:
    registry: dict = {}
    polls = 0

    def crash_after_some_polls(hp: dict[str, Any]) -> Script:
        return Script([None, None, f"loss: {toy_loss(hp)}"])

    class Crash(Exception):
        pass

    class CrashingExecutor(FakeExecutor):
        def poll(self, timeout: float) -> list:
            nonlocal polls
            polls += 1
            if polls == 5:
                raise Crash()
            return super().poll(timeout)

    name = submit(store, limits={"max_jobs": 6, "max_parallel_jobs": 2})
    with pytest.raises(Crash):
        run(store, name, CrashingExecutor(crash_after_some_polls, registry=registry))
    before = {j.name: j.status for j in jobs_of(store, name)}
    assert TrainingJobStatus.IN_PROGRESS in before.values()

    successor = FakeExecutor(crash_after_some_polls, registry=registry)
    job = run(store, name, successor)

    jobs = jobs_of(store, name)
    assert job.status == "Completed"
    assert [j.status for j in jobs] == ["Completed"] * 6
    assert len(successor.launched) == 6 - len(before)  # the running ones were followed on, not run again


def test_one_controller_per_tuning_job(store: Store) -> None:
    name = submit(store, limits={"max_jobs": 2, "max_parallel_jobs": 1})
    second: list[str] = []

    def start_a_second_controller(hp: dict[str, Any]) -> Script:
        if not second:
            with pytest.raises(ConflictError) as refused:
                Controller(store, name, executor=FakeExecutor(lambda hp: Script([]))).run()
            second.append(str(refused.value))
        return Script([f"loss: {toy_loss(hp)}"])

    run(store, name, FakeExecutor(start_a_second_controller))

    assert second[0].startswith(f"tuning job '{name}' is already run by a controller on ")
    assert "stop it with 'modeltune stop toy' or wait for it" in second[0]
