"""Warm start from parent tuning jobs and resume, with real training jobs and a real store."""

from __future__ import annotations

import copy
import os
import signal
import time
from pathlib import Path

import pytest

from modeltune.analytics import describe_tuning_job
from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.controller.warm_start import parent_observations
from modeltune.errors import ConflictError, NotFoundError, SpecError
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import modeltune_cli, run_to_end, toy_spec, write_spec


def child_of(*parents: str, kind: str = "IdenticalDataAndAlgorithm", **overrides) -> dict:
    spec = toy_spec(name="child", limits={"max_jobs": 2, "max_parallel_jobs": 1}, **overrides)
    spec["warm_start"] = {"type": kind, "parents": list(parents)}
    return spec


@pytest.fixture
def store(home: Path) -> Store:
    store = Store()
    run_to_end(store, toy_spec(name="parent", limits={"max_jobs": 3, "max_parallel_jobs": 1}))
    return store


def test_identical_child_learns_from_parents_and_reports_the_overall_best(store: Store) -> None:
    child = run_to_end(store, child_of("parent"))

    history = parent_observations(store, parse_spec(child.spec))
    parent_jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, "parent").id)
    assert [o.hyperparameters for o in history] == [j.hyperparameters for j in parent_jobs]
    assert all(o.source == "parent" and not o.transfer for o in history)
    description = describe_tuning_job(store, "child")
    own_best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    overall = description["OverallBestTrainingJob"]
    best_value = min(j.final_objective for j in parent_jobs + repo.list_training_jobs(store, child.id))
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == best_value <= own_best
    assert description["WarmStartConfig"] == {
        "WarmStartType": "IdenticalDataAndAlgorithm",
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
    }
    assert [j.number for j in repo.list_training_jobs(store, child.id)] == [1, 2]


def test_narrowed_ranges_and_a_tuned_hyperparameter_made_static_keep_matching_parent_points(store: Store) -> None:
    spec = child_of("parent")
    spec["ranges"] = {"x": {"type": "Continuous", "min": 0.0, "max": 0.5}, "k": spec["ranges"]["k"]}
    spec["training"]["static_hyperparameters"]["kind"] = "a"

    observations = parent_observations(store, parse_spec(spec))

    parent_jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, "parent").id)
    inside = [j for j in parent_jobs if j.hyperparameters["x"] <= 0.5]
    assert [o.hyperparameters for o in observations] == [
        {"x": j.hyperparameters["x"], "k": j.hyperparameters["k"]} for j in inside
    ]


def test_transfer_learning_marks_parent_points_as_transfer(store: Store) -> None:
    child = run_to_end(store, child_of("parent", kind="TransferLearning"))

    observations = parent_observations(store, parse_spec(child.spec))
    assert observations and all(o.transfer for o in observations)
    assert "OverallBestTrainingJob" not in describe_tuning_job(store, "child")


def test_grid_child_skips_combinations_its_identical_parent_tried(home: Path) -> None:
    store = Store()
    grid = toy_spec(name="parent", strategy="Grid", limits={"max_jobs": 2, "max_parallel_jobs": 1})
    grid["ranges"] = {"k": grid["ranges"]["k"], "kind": grid["ranges"]["kind"]}
    grid["training"]["static_hyperparameters"]["x"] = 0.3
    run_to_end(store, grid)
    child = copy.deepcopy(grid)
    child.update(name="child", warm_start={"type": "IdenticalDataAndAlgorithm", "parents": ["parent"]})
    del child["limits"]["max_jobs"]

    done = run_to_end(store, child)

    tried = [(j.hyperparameters["k"], j.hyperparameters["kind"]) for j in repo.list_training_jobs(store, done.id)]
    assert tried == [(2, "a"), (2, "b"), (3, "a"), (3, "b")]


RULES = [
    (
        lambda s: s.update(objective={"metric": "loss", "type": "Maximize"}),
        "the objective (Maximize loss) differs from warm-start parent 'parent' (Minimize loss); warm start needs "
        "the same objective",
    ),
    (
        lambda s: s["training"]["static_hyperparameters"].update(extra=1),
        "this job has 5 static plus tuned hyperparameters and warm-start parent 'parent' has 4; the totals must "
        "match (add the missing ones as static hyperparameters)",
    ),
    (
        lambda s: s["ranges"].update(k={"type": "Continuous", "min": 1, "max": 3}),
        "hyperparameter 'k' is Continuous here but Integer in warm-start parent 'parent'; a hyperparameter cannot "
        "change type",
    ),
    (
        lambda s: s["limits"].update(max_total_training_jobs=4),
        "the parents' 3 training jobs plus max_jobs 2 make 5, over the limit of 4 per tuning job; lower max_jobs, "
        "drop a parent, or raise limits.max_total_training_jobs",
    ),
]


@pytest.mark.parametrize(("change", "message"), RULES, ids=["objective", "total", "type", "limit-500"])
def test_each_warm_start_rule_is_one_clear_error(store: Store, change, message: str) -> None:
    spec = child_of("parent")
    change(spec)

    with pytest.raises(SpecError) as error:
        service.submit(store, parse_spec(spec))

    assert str(error.value) == message
    assert [j.name for j in repo.list_tuning_jobs(store)] == ["parent"]


def test_more_than_ten_changes_is_refused_counting_categorical_values(home: Path) -> None:
    store = Store()
    wide = toy_spec(name="parent", limits={"max_jobs": 1})
    wide["ranges"]["kind"] = {"type": "Categorical", "values": [f"v{i}" for i in range(10)]}
    wide["training"]["static_hyperparameters"]["kind_unused"] = 1
    run_to_end(store, wide)
    spec = copy.deepcopy(wide)
    spec.update(name="child", warm_start={"type": "TransferLearning", "parents": ["parent"]})
    del spec["ranges"]["kind"]
    spec["training"]["static_hyperparameters"]["kind"] = "v1"  # 10 values made static: 10 changes
    service.submit(store, parse_spec(spec))  # exactly 10 is allowed
    spec["name"] = "child-2"
    spec["training"]["static_hyperparameters"]["kind_unused"] = 2  # a static value changed: 2 more

    with pytest.raises(SpecError) as error:
        service.submit(store, parse_spec(spec))

    assert str(error.value) == (
        "this job makes 12 changes to warm-start parent 'parent' (tuned made static, static values changed), more "
        "than the 10 allowed; keep more hyperparameters as they were"
    )


def test_at_most_five_distinct_parents_and_not_itself() -> None:
    with pytest.raises(SpecError, match=r"^spec: warm_start.parents: needs at most 5 items$"):
        parse_spec(child_of(*[f"p{i}" for i in range(6)]))
    with pytest.raises(SpecError, match=r"cannot be its own warm-start parent"):
        parse_spec(child_of("child"))


def test_an_unknown_or_still_running_parent_is_refused(store: Store) -> None:
    with pytest.raises(
        NotFoundError, match=r"^no tuning job named 'nope' in the store; 'modeltune list' shows the tuning jobs$"
    ):
        service.submit(store, parse_spec(child_of("nope")))
    service.submit(store, parse_spec(toy_spec(name="running")))

    with pytest.raises(SpecError) as error:
        service.submit(store, parse_spec(child_of("running")))

    assert str(error.value) == (
        "warm-start parent 'running' is InProgress; parents must have ended (Completed, Stopped or Failed): wait "
        "for it or run 'modeltune stop running'"
    )


def test_a_parent_deleted_after_the_child_was_created_is_skipped(store: Store) -> None:
    child = service.submit(store, parse_spec(child_of("parent")))
    service.delete(store, "parent")

    done = Controller(store, child.name).run()

    assert done.status == "Completed"
    assert describe_tuning_job(store, "child")["TrainingJobStatusCounters"]["Completed"] == 2
    assert not (store.jobs_folder() / "parent").exists()


def test_resume_after_stop_continues_the_history_and_numbering(home: Path, tmp_path: Path) -> None:
    store = Store()
    spec = toy_spec(limits={"max_jobs": 2, "max_parallel_jobs": 1})
    first = run_to_end(store, spec)
    with pytest.raises(ConflictError, match=r"already ran 2 training jobs; resume it with a larger budget"):
        service.resume(store, "toy")

    service.resume(store, "toy", max_jobs=4)
    done = Controller(store, "toy").run()

    jobs = repo.list_training_jobs(store, done.id)
    assert done.status == "Completed" and done.id == first.id
    assert [j.name for j in jobs] == ["toy-001", "toy-002", "toy-003", "toy-004"]
    # The strategy saw the first two: a fresh Random job with the same seed would repeat them.
    assert jobs[2].hyperparameters != jobs[0].hyperparameters
    assert describe_tuning_job(store, "toy")["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 4


def test_resume_after_a_controller_crash_reattaches_the_running_training_job(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(limits={"max_jobs": 3, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"] = {"mode": "sleep", "seconds": 1}
    modeltune_cli("run", str(write_spec(tmp_path, spec)), "--detach", check=True)
    store = Store()
    job = repo.get_tuning_job(store, "toy")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = repo.list_training_jobs(store, job.id)
        if any(j.status == "Completed" for j in jobs) and any(j.status == "InProgress" for j in jobs):
            break
        time.sleep(0.1)
    running = next(j for j in repo.list_training_jobs(store, job.id) if j.status == "InProgress")
    os.kill(repo.get_tuning_job(store, "toy").controller_pid, signal.SIGKILL)
    time.sleep(0.5)

    result = modeltune_cli("resume", "toy", check=True)

    assert "Tuning job toy Completed" in result.stdout
    jobs = repo.list_training_jobs(store, job.id)
    assert [j.status for j in jobs] == ["Completed"] * 3
    again = next(j for j in jobs if j.id == running.id)
    # The same process finished it: started once, before the crash, and it printed its lines once.
    assert again.started_at == running.started_at
    assert Path(again.log_path).read_text().count("epoch 2 loss") == 1


def test_the_analytics_table_names_the_warm_start_parents(store: Store) -> None:
    from modeltune.analytics.dataframe import trials_dataframe

    run_to_end(store, child_of("parent", kind="TransferLearning"))

    frame = trials_dataframe(store, "child")
    assert set(frame["WarmStartType"]) == {"TransferLearning"}
    assert set(frame["WarmStartParents"]) == {"parent"}
    assert trials_dataframe(store, "parent")["WarmStartParents"].isna().all()
