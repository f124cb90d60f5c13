"""The Python API: ``modeltune.deploy`` and ``HyperparameterTuner.deploy`` return a Predictor over a real server."""

from __future__ import annotations

import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest

import modeltune
from modeltune.errors import InvocationError, ServingError

from .support import SCRIPTS, group_members

DOUBLER = str(SCRIPTS / "doubler.py")
NPY = "application/x-npy"


def test_deploy_serves_the_best_model_until_delete_endpoint(toy_job: str) -> None:
    predictor = modeltune.deploy(toy_job, entry_point=DOUBLER)
    server = predictor.server
    assert server is not None
    try:
        as_json = predictor.predict([[1, 2], [3, 4]])
        as_csv = predictor.predict(np.array([[1.5, 2.0]]), content_type="text/csv", accept="text/csv")
        as_npy = predictor.predict(np.arange(3), content_type=NPY, accept=NPY)
        sent_as_is = predictor.predict(b"[5]")
        with pytest.raises(InvocationError) as error:
            predictor.predict("1,x", content_type="text/csv")
    finally:
        predictor.delete_endpoint()

    assert as_json == [[2, 4], [6, 8]]
    np.testing.assert_array_equal(as_csv, [[3.0, 4.0]])
    np.testing.assert_array_equal(as_npy, [0, 2, 4])
    assert sent_as_is == [10]
    assert error.value.status == 400
    assert str(error.value).startswith("the endpoint answered 400: the body is not valid text/csv: could not convert")
    assert server.process.poll() is not None
    assert group_members(server.process.pid) == []
    assert not server.log_path.exists()
    with pytest.raises(ServingError, match=r"^the endpoint http://127\.0\.0\.1:\d+ does not answer"):
        predictor.predict([1])


def test_two_workers_answer_and_stop_together(toy_job: str) -> None:
    with modeltune.deploy(toy_job, entry_point=DOUBLER, workers=2) as predictor:
        assert predictor.server is not None
        pid = predictor.server.process.pid
        answers = [predictor.predict([i]) for i in range(20)]
        members = group_members(pid)

    assert answers == [[2 * i] for i in range(20)]
    assert len(members) >= 3  # the supervisor and its two workers
    assert group_members(pid) == []


def test_a_model_folder_holding_only_model_tar_gz_is_unpacked(home: Path, toy_job: str) -> None:
    best = modeltune.HyperparameterTuningJobAnalytics(toy_job).dataframe().sort_values("FinalObjectiveValue")
    [model_dir] = home.glob(f"jobs/*/{toy_job}/{best['TrainingJobName'].iloc[0]}/model")
    with tarfile.open(model_dir.parent / "model.tar.gz", "w:gz") as archive:
        archive.add(model_dir / "model.txt", arcname="model.txt")
    (model_dir / "model.txt").unlink()
    (model_dir.parent / "model.tar.gz").rename(model_dir / "model.tar.gz")

    with modeltune.deploy(toy_job, entry_point=DOUBLER) as predictor:
        assert predictor.predict([1]) == [2]


def test_a_tuner_deploys_the_best_training_job_of_its_latest_job(home: Path) -> None:
    estimator = modeltune.Estimator(
        command=["python", str(Path(__file__).parents[1] / "fixtures" / "toy_train.py")],
        metric_definitions=[{"Name": "loss", "Regex": r"loss: (-?[0-9.eE+-]+)"}],
    )
    tuner = modeltune.HyperparameterTuner(
        estimator, "loss", {"x": modeltune.ContinuousParameter(0.0, 1.0)}, objective_type="Minimize", max_jobs=2
    )
    tuner.fit(job_name="tuned", show_progress=False)

    with tuner.deploy(entry_point=DOUBLER) as predictor:
        assert predictor.server is not None
        log = predictor.server.log_path.read_text()
        assert predictor.predict([21]) == [42]

    assert f"/{tuner.best_training_job()}/model on http://127.0.0.1:" in log


def test_a_refused_script_or_a_port_in_use_raise_one_sentence(toy_job: str) -> None:
    with pytest.raises(ServingError, match=r"both\.py' defines transform_fn and input_fn; transform_fn replaces them"):
        modeltune.deploy(toy_job, entry_point=str(SCRIPTS / "both.py"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServingError, match=rf"^port {port} on 127\.0\.0\.1 is in use; choose another"):
            modeltune.deploy(toy_job, entry_point=DOUBLER, port=port)
