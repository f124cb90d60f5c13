"""Training jobs on a real Ray cluster (a head with 2 CPUs and a node with a custom resource, on loopback).

The tests share one cluster and run in file order; the last one kills the extra node.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.executors import JobFiles, LaunchRequest
from modeltune.runners.ray import NODE_FILE, RayExecutor
from modeltune.spec import parse_spec
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo

from helpers import run_to_end, toy_spec, write_spec
from raycluster import RayCluster, ray_cluster

SCRIPT = Path(__file__).parent / "node_train.py"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    with ray_cluster(head_cpus=2) as started:
        started.add_node("special", cpus=1, resources={"special": 1})
        yield started


def ray_spec(name: str, cluster: RayCluster, resources: Any, seconds: float = 0.0, **limits: Any) -> dict[str, Any]:
    spec = toy_spec(
        name, executor="ray", ray_address=cluster.address, limits={"max_jobs": 2, "max_parallel_jobs": 2, **limits}
    )
    spec["training"] = {
        "command": ["python", str(SCRIPT)],
        "source_dir": str(SCRIPT.parent),
        "static_hyperparameters": {"seconds": seconds},
        "metric_definitions": [{"name": "loss", "regex": r"loss: ([0-9.]+)"}],
        "resources": resources,
        "stop_grace_seconds": 5,
    }
    return spec


def start_in_thread(store: Store, spec: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    """Submit ``spec`` and run its controller in a thread; the list receives the ended tuning job."""
    job = service.submit(store, parse_spec(spec))
    ended: list[Any] = []
    thread = threading.Thread(target=lambda: ended.append(Controller(store, job.name).run()))
    thread.start()
    return thread, ended


def wait_for_line(store: Store, name: str, text: str) -> None:
    """Wait until a training job of ``name`` has ``text`` in its log (streamed back from its node)."""
    deadline = time.monotonic() + 90
    while not any(Path(r.log_path).exists() and text in log_of(r) for r in training_jobs(store, name)):
        assert time.monotonic() < deadline, f"no training job of {name} printed {text!r}"
        time.sleep(0.1)


def training_jobs(store: Store, name: str) -> list[TrainingJob]:
    return repo.list_training_jobs(store, repo.get_tuning_job(store, name).id)


def log_of(record: TrainingJob) -> str:
    return Path(record.log_path).read_text()


def test_training_jobs_run_where_their_resources_are(home: Path, cluster: RayCluster) -> None:
    store = Store()
    special = cluster.node_id("special")
    run_to_end(store, ray_spec("on-special", cluster, {"cpus": 1, "custom": {"special": 1}}))
    run_to_end(store, ray_spec("two-cpus", cluster, {"cpus": 2}))  # only the head has two CPUs
    for record in training_jobs(store, "on-special"):
        assert record.status == "Completed" and record.final_objective == 0.5, record.status_reason
        assert f"node: {special} gpus: 0" in log_of(record)  # the log streamed back into the folder here
        # The code came through Ray's object store (source_dir need not exist on the node) and ran from there.
        code = log_of(record).split("code: ")[1].split()[0]
        assert code != str(SCRIPT.parent) and f"cwd: {code}" in log_of(record)
        assert (Path(record.output_dir) / "model" / "model.txt").read_text() == special  # and the model
        assert record.artifact_uri == str(Path(record.output_dir) / "output" / "model.tar.gz")
    for record in training_jobs(store, "two-cpus"):
        assert record.status == "Completed", record.status_reason
        assert "node: " in log_of(record) and special not in log_of(record)


def test_a_relative_source_dir_moves_only_whole_paths(
    home: Path, cluster: RayCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SCRIPT.parent)
    spec = ray_spec("relative", cluster, {"cpus": 1})
    # source_dir "." is the node's copy of the code; the interpreter's path, full of dots, stays as it is.
    spec["training"] |= {"source_dir": ".", "command": [sys.executable, SCRIPT.name]}
    run_to_end(Store(), spec)
    for record in training_jobs(Store(), "relative"):
        assert record.status == "Completed" and record.final_objective == 0.5, record.status_reason
        code = log_of(record).split("code: ")[1].split()[0]
        assert code != str(SCRIPT.parent) and f"cwd: {code}" in log_of(record)


def test_a_stop_reaches_the_remote_process_and_it_ends_stopped(home: Path, cluster: RayCluster) -> None:
    store = Store()
    thread, ended = start_in_thread(
        store, ray_spec("stopped", cluster, {"cpus": 1}, seconds=60, max_jobs=1, max_parallel_jobs=1)
    )
    wait_for_line(store, "stopped", "loss: 0.5")
    asked = time.monotonic()
    repo.request_stop(store, "stopped")  # what 'modeltune stop' does
    thread.join(60)
    assert time.monotonic() - asked < 5 + 10  # the grace period, and then some on a busy machine; not 60 s
    (record,) = training_jobs(store, "stopped")
    assert record.status == "Stopped" and record.status_reason == "stopped by request"
    assert record.final_objective == 0.5  # the value streamed while it ran
    assert "got SIGTERM, saving checkpoint" in log_of(record)
    assert (Path(record.output_dir) / "model" / "checkpoint").read_text() == "saved at SIGTERM"
    assert ended[0].status == "Stopped"


def test_early_stopping_stops_a_training_job_on_its_node(home: Path, cluster: RayCluster) -> None:
    store = Store()
    spec = toy_spec(
        "early",
        mode="epochs",
        executor="ray",
        ray_address=cluster.address,
        early_stopping={"type": "Auto", "min_steps": 1, "min_peers": 1},
        limits={"max_jobs": 6, "max_parallel_jobs": 1},
    )
    spec["training"]["static_hyperparameters"] = {"mode": "epochs", "epochs": 6, "seconds": 0.4}
    run_to_end(store, spec)
    records = training_jobs(store, "early")
    stopped = [r for r in records if r.status == "Stopped"]
    assert stopped, [(r.status, r.status_reason) for r in records]
    for record in stopped:
        assert record.stop_reason is not None and "median" in record.stop_reason
        assert log_of(record).count("loss: ") < 6  # it ended before its last epoch
    assert any(r.status == "Completed" and log_of(r).count("loss: ") == 6 for r in records)


def test_a_resumed_tuning_job_follows_the_training_job_its_crashed_controller_left_on_the_cluster(
    home: Path, tmp_path: Path, cluster: RayCluster
) -> None:
    spec = ray_spec("crash", cluster, {"cpus": 1}, seconds=6, max_jobs=1, max_parallel_jobs=1)
    controller = subprocess.Popen(
        [sys.executable, "-m", "modeltune", "run", str(write_spec(tmp_path, spec))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(job.name == "crash" for job in repo.list_tuning_jobs(Store())):
            assert time.monotonic() < deadline and controller.poll() is None, "the controller did not start the job"
            time.sleep(0.1)
        wait_for_line(Store(), "crash", "loss: 0.5")
    finally:
        controller.kill()  # SIGKILL: Ray ends the tasks this driver owned
        controller.wait()
    store = Store()
    service.resume(store, "crash")
    job = Controller(store, "crash").run()
    (record,) = training_jobs(store, "crash")
    assert job.status == "Completed"
    assert record.status == "Completed" and record.final_objective == 0.5, record.status_reason
    # The same run, followed to its end, not a new one: one start, and its last line streamed after the crash.
    assert log_of(record).count("node: ") == 1 and log_of(record).count("loss: 0.5") == 1
    assert log_of(record).endswith("finished after 6 s\n")
    assert (Path(record.output_dir) / "model" / "model.txt").is_file()


def test_a_node_keeps_a_finished_training_job_until_its_controller_recorded_the_end(
    home: Path, tmp_path: Path, cluster: RayCluster
) -> None:
    """A controller killed between the end streamed back and the end stored finds it on the node when it
    resumes: the node's folder goes only once the controller has recorded the end (its next poll)."""
    (tmp_path / "code").mkdir()
    files = JobFiles("kept-1", tmp_path / "kept-1" / "log.txt", tmp_path / "kept-1")
    executor = RayExecutor(cluster.address)
    executor.launch(LaunchRequest(files, [sys.executable, "-c", "print('loss: 0.5')"], tmp_path / "code", {}))
    events: list[Any] = []
    deadline = time.monotonic() + 60
    while not any(event.is_exit for event in events):
        assert time.monotonic() < deadline, "the training job did not end"
        events += executor.poll(1.0)
    on_node = Path(json.loads((files.control_dir / NODE_FILE).read_text())["folder"])
    time.sleep(1.0)
    assert on_node.is_dir()  # not recorded yet: a new controller could still follow it to its end there
    executor.ends_recorded()  # as a runner says once it has stored what the poll returned
    deadline = time.monotonic() + 10
    while on_node.exists():
        assert time.monotonic() < deadline, "the node kept the folder of an ended, recorded training job"
        time.sleep(0.1)
    executor.close()


def test_an_impossible_request_ends_with_its_reason(home: Path, cluster: RayCluster) -> None:
    store = Store()
    job = run_to_end(store, ray_spec("greedy", cluster, {"cpus": 1, "gpus": 4}))
    assert job.status == "Failed"
    for record in training_jobs(store, "greedy"):
        assert record.status == "Failed"
        assert record.status_reason.startswith("could not start: no node of the Ray cluster has 1 CPU, 4 GPU for one")
        assert "ask for less in training.resources or add a node that has it" in record.status_reason


def test_without_ray_installed_run_says_what_to_install(home: Path, tmp_path: Path) -> None:
    path = write_spec(tmp_path, toy_spec("no-ray", executor="ray"))
    hide_ray = (
        "import sys; sys.modules['ray'] = None; from modeltune.cli import main; sys.argv[0] = 'modeltune'; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide_ray, "run", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: running training jobs on a Ray cluster needs ray, which is not installed; install it with "
        "pip install 'modeltune[ray]'"
    ]


def test_a_lost_node_fails_its_training_job_and_the_tuning_job_goes_on(home: Path, cluster: RayCluster) -> None:
    store = Store()
    spec = ray_spec(
        "lost", cluster, {"cpus": 1, "custom": {"special": 1}}, seconds=120, max_jobs=2, max_parallel_jobs=1
    )
    thread, ended = start_in_thread(store, spec)
    wait_for_line(store, "lost", "loss: 0.5")
    cluster.kill_node("special")
    thread.join(120)
    assert not thread.is_alive()
    first, second = training_jobs(store, "lost")
    assert first.status == "Failed" and first.status_reason.startswith("node lost"), first.status_reason
    assert first.retryable
    # The tuning job went on: it launched the next training job, which no remaining node can run.
    assert second.status == "Failed" and second.status_reason.startswith("could not start: no node")
    assert ended[0].status == "Failed"
