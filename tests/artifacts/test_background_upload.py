"""Model artifacts are uploaded off the controller loop: a slow upload holds up no other training job."""

from __future__ import annotations

import os
import signal
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeltune.controller import loop, service
from modeltune.controller.loop import Controller
from modeltune.runners import local
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import modeltune_cli, run_to_end, toy_spec, write_spec
from s3server import S3Server


@pytest.fixture
def first_upload_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The first training job's upload (to the real location) waits until the event is set."""
    gate = threading.Event()
    real = local.keep_model

    def held(output_dir: Path, location: str, training_job: str, packed: bool = False) -> str:
        if training_job.endswith("-001"):
            gate.wait(120)
        return real(output_dir, location, training_job, packed)

    monkeypatch.setattr(local, "keep_model", held)
    yield gate
    gate.set()


def records(store: Store, name: str) -> list[Any]:
    return repo.list_training_jobs(store, repo.get_tuning_job(store, name).id)


def test_a_slow_upload_does_not_hold_up_the_next_training_job(
    home: Path, s3_env: S3Server, first_upload_held: threading.Event
) -> None:
    store = Store()
    spec = toy_spec("slow-up", training__output_path="s3://models/slow", limits={"max_jobs": 2, "max_parallel_jobs": 1})
    job = service.submit(store, parse_spec(spec))
    ended: list[Any] = []
    thread = threading.Thread(target=lambda: ended.append(Controller(store, job.name).run()))
    thread.start()
    deadline = time.monotonic() + 60
    while len(records(store, "slow-up")) < 2 or records(store, "slow-up")[1].status != "Completed":
        assert time.monotonic() < deadline, [(r.status, r.artifact_uri) for r in records(store, "slow-up")]
        time.sleep(0.05)
    first, second = records(store, "slow-up")
    # The second training job ran to its end while the first one's model was still on its way.
    assert first.status == "Completed" and first.artifact_uri is None
    assert thread.is_alive()  # and the tuning job waits for that upload before it ends
    first_upload_held.set()
    thread.join(60)
    first, second = records(store, "slow-up")
    assert first.artifact_uri == "s3://models/slow/slow-up-001/output/model.tar.gz" and first.status_reason is None
    assert second.artifact_uri == "s3://models/slow/slow-up-002/output/model.tar.gz"
    listed = s3_env.client().list_objects_v2(Bucket="models", Prefix="slow/")  # type: ignore[attr-defined]
    assert len(listed["Contents"]) == 2
    assert ended[0].status == "Completed"


def test_an_upload_still_running_when_the_tuning_job_ends_is_recorded_failed(
    home: Path, monkeypatch: pytest.MonkeyPatch, first_upload_held: threading.Event
) -> None:
    monkeypatch.setattr(loop, "UPLOAD_WAIT_SECONDS", 0.5)
    store = Store()
    job = run_to_end(store, toy_spec("never-up", limits={"max_jobs": 1, "max_parallel_jobs": 1}))
    (record,) = records(store, "never-up")
    assert job.status == "Completed" and record.status == "Completed" and record.final_objective is not None
    assert record.artifact_uri is None
    assert record.status_reason == (
        f"model artifact upload failed: not done 0.5 s after the tuning job ended; kept in {record.output_dir}/model"
    )


def test_a_model_whose_upload_a_controller_crash_cut_short_is_kept_when_the_tuning_job_resumes(
    home: Path, tmp_path: Path
) -> None:
    # 60 MB of random bytes take about half a second to pack: the controller is killed meanwhile.
    weights = "import os; d = os.environ['SM_MODEL_DIR']; open(d + '/weights.bin', 'wb').write(os.urandom(60 << 20))"
    spec = toy_spec("cut", limits={"max_jobs": 1, "max_parallel_jobs": 1})
    spec["training"] |= {"command": ["python", "-c", weights + "; print('loss: 0.5')"], "static_hyperparameters": {}}
    modeltune_cli("run", str(write_spec(tmp_path, spec)), "--detach", check=True)
    store = Store()
    deadline = time.monotonic() + 60
    while not records(store, "cut") or records(store, "cut")[0].status != "Completed":
        assert time.monotonic() < deadline, records(store, "cut")
        time.sleep(0.02)
    os.kill(repo.get_tuning_job(store, "cut").controller_pid, signal.SIGKILL)
    (cut,) = records(store, "cut")
    assert cut.artifact_uri is None and cut.status_reason is None  # killed before it was kept

    result = modeltune_cli("resume", "cut", check=True)

    assert "Tuning job cut Completed" in result.stdout
    (kept,) = records(store, "cut")
    assert kept.artifact_uri == f"{kept.output_dir}/output/model.tar.gz"
    assert kept.status_reason is None and kept.final_objective == 0.5
    with tarfile.open(kept.artifact_uri) as archive:
        assert archive.getmember("weights.bin").size == 60 << 20
