"""training.resources on one machine: never more than it has, each training job its own GPUs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from modeltune.errors import SpecError
from modeltune.resources import INSTANCE_TYPES, Machine, ResourcePool
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import modeltune_cli, run_to_end, toy_spec, write_spec

SCRIPT = Path(__file__).parent / "gpu_train.py"


def gpu_spec(name: str, resources: Any, jobs: int = 4, parallel: int = 4, seconds: float = 0.6) -> dict[str, Any]:
    """Four quick training jobs of the recording script, all allowed at once by max_parallel_jobs."""
    spec = toy_spec(name, limits={"max_jobs": jobs, "max_parallel_jobs": parallel})
    spec["training"] = {
        "command": ["python", str(SCRIPT)],
        "source_dir": str(SCRIPT.parent),
        "static_hyperparameters": {"seconds": seconds},
        "metric_definitions": [{"name": "loss", "regex": r"loss: ([0-9.]+)"}],
        "resources": resources,
    }
    return spec


def seen(store: Store, name: str) -> list[dict[str, Any]]:
    """What each training job of ``name`` recorded about itself."""
    job = repo.get_tuning_job(store, name)
    found = []
    for record in repo.list_training_jobs(store, job.id):
        assert record.status == "Completed", record.status_reason
        found.append(json.loads((Path(record.output_dir) / "model" / "seen.json").read_text()))
    return found


def overlapping(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of training jobs that ran at the same time."""
    return [
        (a, b)
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
        if a["started"] < b["ended"] and b["started"] < a["ended"]
    ]


def most_at_once(runs: list[dict[str, Any]]) -> int:
    """The largest number of training jobs that ran at one moment."""
    return max(sum(1 for r in runs if r["started"] <= s["started"] < r["ended"]) for s in runs)


def test_each_training_job_gets_gpus_of_its_own(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_GPUS", "0,1,2,3")
    store = Store()
    run_to_end(store, gpu_spec("gpus", {"cpus": 0.1, "gpus": 2}))
    runs = seen(store, "gpus")
    assert len(runs) == 4
    for run in runs:
        gpus = run["cuda"].split(",")
        assert len(gpus) == 2 and set(gpus) <= {"0", "1", "2", "3"}
        assert run["sm_num_gpus"] == "2" and run["training_env_gpus"] == 2
    # Four GPUs, two per training job: two at once, never sharing a GPU, although four were allowed.
    assert most_at_once(runs) == 2
    for a, b in overlapping(runs):
        assert not set(a["cuda"].split(",")) & set(b["cuda"].split(","))


def test_cpus_limit_how_many_run_at_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_GPUS", "")
    cpus = os.cpu_count() or 1
    store = Store()
    run_to_end(store, gpu_spec("cpus", {"cpus": cpus}, jobs=3, parallel=3, seconds=0.3))
    runs = seen(store, "cpus")
    assert most_at_once(runs) == 1
    assert {run["sm_num_cpus"] for run in runs} == {str(cpus)}
    assert {run["cuda"] for run in runs} == {""}  # a job without GPUs sees none


def test_without_resources_nothing_changes(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_GPUS", "0,1")
    store = Store()
    run_to_end(store, gpu_spec("plain", None, jobs=2, parallel=2))
    runs = seen(store, "plain")
    assert {run["cuda"] for run in runs} == {os.environ.get("CUDA_VISIBLE_DEVICES")}
    assert {run["sm_num_gpus"] for run in runs} == {"0"}


def test_instance_types_are_a_shorthand() -> None:
    spec = parse_spec(gpu_spec("typed", "ml.g5.2xlarge"))
    resources = spec.training.resources
    assert resources is not None
    assert (resources.cpus, resources.gpus, resources.memory_gb) == INSTANCE_TYPES["ml.g5.2xlarge"] == (8, 1, 32)
    with pytest.raises(SpecError, match=r"'ml\.nope\.large' is not a known instance type; use one of .*ml\.m5\.xlarge"):
        parse_spec(gpu_spec("typed", "ml.nope.large"))
    with pytest.raises(SpecError, match="gpus"):
        parse_spec(gpu_spec("typed", {"gpus": -1}))


def test_impossible_request_is_one_line(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_GPUS", "0,1")
    path = write_spec(tmp_path, gpu_spec("greedy", {"gpus": 8}))
    result = modeltune_cli("run", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: training.resources asks for 8 GPUs but this machine has 2 (found by nvidia-smi or declared in "
        "MODELTUNE_GPUS); ask for fewer"
    ]
    assert repo.list_tuning_jobs(Store()) == []


def test_pool_hands_out_free_gpus_only() -> None:
    spec = parse_spec(gpu_spec("pool", {"cpus": 1, "gpus": 1, "memory_gb": 4}))
    wanted = spec.training.resources
    assert wanted is not None
    pool = ResourcePool(Machine(cpus=2, gpus=("a", "b", "c"), memory_gb=8))
    first, second = pool.reserve("one", wanted), pool.reserve("two", wanted)
    assert first is not None and second is not None and first.gpus == ("a",) and second.gpus == ("b",)
    assert pool.reserve("three", wanted) is None  # CPUs and memory are used up, though a GPU is free
    pool.release("one")
    third = pool.reserve("three", wanted)
    assert third is not None and third.gpus == ("a",)


def test_declared_custom_resources_are_counted(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_GPUS", "")
    monkeypatch.setenv("MODELTUNE_RESOURCES", '{"a100": 2}')
    store = Store()
    run_to_end(store, gpu_spec("custom", {"cpus": 0.1, "custom": {"a100": 1}}))
    runs = seen(store, "custom")
    assert len(runs) == 4
    assert most_at_once(runs) == 2  # two a100 declared, one per training job, although four were allowed


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (
            None,
            "error: training.resources asks for 1 a100 but this machine declares 0 (in MODELTUNE_RESOURCES, e.g. "
            """MODELTUNE_RESOURCES='{"a100": 1}'); declare what it has, ask for less, or run on a Ray cluster that """
            "has it",
        ),
        (
            "a100=2",
            "error: MODELTUNE_RESOURCES must be a JSON object of resource names and amounts, e.g. "
            """MODELTUNE_RESOURCES='{"a100": 2}'; it is 'a100=2'""",
        ),
    ],
)
def test_an_undeclared_custom_resource_is_refused_in_one_line(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str | None, expected: str
) -> None:
    if declared is None:
        monkeypatch.delenv("MODELTUNE_RESOURCES", raising=False)
    else:
        monkeypatch.setenv("MODELTUNE_RESOURCES", declared)
    path = write_spec(tmp_path, gpu_spec("wants-a100", {"cpus": 1, "custom": {"a100": 1}}))
    result = modeltune_cli("run", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [expected]
    assert repo.list_tuning_jobs(Store()) == []


def test_pool_counts_custom_resources() -> None:
    spec = parse_spec(gpu_spec("pool-custom", {"cpus": 0.5, "custom": {"a100": 1}}))
    wanted = spec.training.resources
    assert wanted is not None
    pool = ResourcePool(Machine(cpus=4, gpus=(), memory_gb=8, custom={"a100": 1}))
    first = pool.reserve("one", wanted)
    assert first is not None and first.custom == {"a100": 1}
    assert pool.reserve("two", wanted) is None  # CPUs are free, the only a100 is not
    pool.release("one")
    assert pool.reserve("two", wanted) is not None
