"""Training jobs as MLflow runs, read back through MlflowClient: a local store and a real 'mlflow server'."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.fake_executor import FakeExecutor, Script
from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import toy_spec

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_tuning_job(store: Store, tracking_uri: str, name: str = "tracked") -> repo.TuningJob:
    spec = toy_spec(name=name, limits={"max_jobs": 4, "max_parallel_jobs": 2}, early_stopping="Auto")
    spec["training"]["metric_definitions"].append({"name": "validation:auc", "regex": r"auc: (\S+)"})
    spec["integrations"] = {"mlflow": {"tracking_uri": tracking_uri}}
    lines = iter(
        [
            ["loss: 0.9", "auc: 0.5", "loss: 0.5"],
            ["loss: 0.8", "loss: 0.4"],
            ["loss: 0.7", "boom"],
            ["loss: 0.6", "loss: 0.3", "loss: 0.2"],
        ]
    )
    scripts = iter([0, 0, 3, 0])
    executor = FakeExecutor(lambda hp: Script(next(lines), exit_code=next(scripts)))
    service.submit(store, parse_spec(spec))
    return Controller(store, name, executor=executor, poll_seconds=0).run()


def check_runs(tracking_uri: str, name: str = "tracked") -> None:
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if r.data.tags["modeltune.kind"] == "tuning job")
    children = sorted(
        (r for r in runs if r.data.tags["modeltune.kind"] == "training job"), key=lambda r: r.info.run_name
    )
    assert [r.info.run_name for r in children] == [f"{name}-00{i}" for i in range(1, 5)]
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in children)
    assert [r.info.status for r in children] == ["FINISHED", "FINISHED", "FAILED", "FINISHED"]
    first = children[0]
    assert set(first.data.params) == {"x", "k", "kind", "mode"}
    assert [(m.step, m.value) for m in client.get_metric_history(first.info.run_id, "loss")] == [(1, 0.9), (2, 0.5)]
    assert first.data.metrics["validation_auc"] == 0.5  # a colon is not allowed in an MLflow key
    assert children[2].data.tags["modeltune.status"] == "Failed"
    assert children[2].data.tags["modeltune.status_reason"].startswith("exit code 3")
    assert parent.info.status == "FINISHED" and parent.data.metrics["BestObjectiveValue"] == 0.2


def test_training_jobs_become_runs_in_a_local_mlflow_store(home: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    job = run_tuning_job(Store(), uri)

    assert job.status == "Completed"
    check_runs(uri)


def healthy(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real MLflow tracking server on a loopback port, stopped by the pid it was started with."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # it starts in ~15 s on a quiet machine, much longer on a busy one
        while not healthy(uri):
            assert time.monotonic() < deadline and process.poll() is None, "the MLflow server did not start"
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the workers it started, by its own group
        process.wait(timeout=30)


@pytest.mark.slow
def test_training_jobs_become_runs_on_a_real_tracking_server(home: Path, mlflow_server: str) -> None:
    job = run_tuning_job(Store(), mlflow_server)

    assert job.status == "Completed"
    check_runs(mlflow_server)


def test_an_unreachable_tracking_server_never_fails_the_tuning_job_and_is_caught_up_later(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"

    job = run_tuning_job(Store(), unreachable, name="offline")

    assert job.status == "Completed"
    assert any("did not answer" in message for message in caplog.messages)
    # Later, with the server's address pointing at a store that answers, a resumed tracker records the rest.
    from modeltune.integrations.mlflow import MlflowTracker

    reachable = f"sqlite:///{tmp_path / 'later.db'}"
    tracker = MlflowTracker(Store(), repo.get_tuning_job(Store(), "offline"), reachable)
    tracker.start()
    tracker.close("Completed")
    runs = MlflowClient(tracking_uri=reachable).search_runs(
        [MlflowClient(tracking_uri=reachable).get_experiment_by_name("offline").experiment_id]
    )
    assert len(runs) == 5
