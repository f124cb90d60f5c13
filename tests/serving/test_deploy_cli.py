"""``modeltune deploy``: health while loading and after model_fn fails, SageMaker's variables, refusals."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from modeltune.serving.server import free_port
from modeltune.store import Store

from .support import SCRIPTS, cli_server, wait_for_ping
from helpers import modeltune_cli, run_to_end, toy_spec


def test_ping_is_503_while_the_model_loads_then_200(tmp_path: Path, model_dir: Path) -> None:
    args = ("--model-dir", str(model_dir), "--entry-point", str(SCRIPTS / "slow.py"))
    with cli_server(tmp_path / "log", *args) as server:
        loading = wait_for_ping(server.url, 503)
        early = httpx.post(f"{server.url}/invocations", content=b"[1]", headers={"Content-Type": "application/json"})
        wait_for_ping(server.url, 200)
        ready = httpx.post(f"{server.url}/invocations", content=b"[1]", headers={"Content-Type": "application/json"})

    assert loading.text == "loading the model"
    assert (early.status_code, early.text) == (503, "loading the model")
    assert (ready.status_code, ready.text) == (200, "ready")


def test_a_model_fn_that_raises_keeps_ping_503_and_logs_the_reason(tmp_path: Path, model_dir: Path) -> None:
    args = ("--model-dir", str(model_dir), "--entry-point", str(SCRIPTS / "broken.py"))
    with cli_server(tmp_path / "log", *args) as server:
        log = server.wait_for_log("model_fn failed")
        ping = httpx.get(f"{server.url}/ping")
        invocation = httpx.post(f"{server.url}/invocations", content=b"[1]")

    reason = "model_fn failed: RuntimeError: the weights in model.txt are corrupt"
    assert (ping.status_code, ping.text) == (503, reason)
    assert (invocation.status_code, invocation.text) == (503, reason)
    assert f"{reason}; /ping answers 503" in log
    assert 'broken.py", line 5, in model_fn' in log  # with the traceback


def test_sagemakers_serving_variables_choose_model_script_and_port(tmp_path: Path, model_dir: Path) -> None:
    port = free_port("127.0.0.1", 0)
    env = {"SM_MODEL_DIR": str(model_dir), "SAGEMAKER_PROGRAM": str(SCRIPTS / "doubler.py")}
    with cli_server(tmp_path / "log", env={**env, "SAGEMAKER_BIND_TO_PORT": str(port)}, port=None) as server:
        wait_for_ping(server.url)
        answer = httpx.post(f"{server.url}/invocations", content=b"1,2", headers={"Content-Type": "text/csv"})

    assert server.url == f"http://127.0.0.1:{port}"
    assert answer.json() == [[2.0, 4.0]]
    assert f"Serving model folder {model_dir} on http://127.0.0.1:{port}" in server.log()


def test_the_best_training_job_is_served_with_an_entry_point_beside_it(tmp_path: Path, toy_job: str) -> None:
    with cli_server(tmp_path / "log", toy_job, "--entry-point", str(SCRIPTS / "doubler.py")) as server:
        wait_for_ping(server.url)
        answer = httpx.post(f"{server.url}/invocations", content=b"[3]", headers={"Content-Type": "application/json"})
    best = json.loads(modeltune_cli("describe", toy_job, "--json", check=True).stdout)["BestTrainingJob"]

    assert answer.json() == [6]
    assert f"Serving training job {best['TrainingJobName']} of tuning job toy on http://127.0.0.1:" in server.log()


def refusal(*args: str) -> str:
    result = modeltune_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr.strip()


def test_transform_fn_with_input_fn_is_refused_at_start_in_one_line(model_dir: Path) -> None:
    line = refusal("deploy", "--model-dir", str(model_dir), "--entry-point", str(SCRIPTS / "both.py"))

    assert line.startswith("error: the entry point ")
    assert line.endswith(
        "both.py' defines transform_fn and input_fn; transform_fn replaces them, so keep either transform_fn "
        "or input_fn/predict_fn/output_fn"
    )


def test_a_training_script_without_model_fn_names_the_entry_point_option(
    toy_job: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # importing the toy script (it has no main guard) writes model.txt here
    line = refusal("deploy", toy_job)

    assert "toy_train.py' defines no model_fn(model_dir) to load the model;" in line
    assert "--entry-point" in line


def test_mistakes_get_one_line_and_exit_2(toy_job: str) -> None:
    mistakes = [
        (("deploy", "toi"), "error: no tuning job named 'toi' in the store; did you mean 'toy'?"),
        (("deploy", "toy", "--training-job", "9"), "error: tuning job 'toy' has no training job '9'"),
        (("deploy", "toy", "--entry-point", "missing.py"), "error: the entry point 'missing.py' does not exist in"),
        (("deploy",), "error: name a tuning job to serve (modeltune deploy JOB), or a model folder with --model-dir"),
        (("predict", "toy", "--input", __file__, "--content-type", "application/x-npy"), "error: batch predict reads"),
    ]
    for args, message in mistakes:
        assert refusal(*args).startswith(message)


def test_a_failed_tuning_job_has_no_model_to_serve(home: Path) -> None:
    run_to_end(Store(), toy_spec(mode="crash", limits={"max_jobs": 1}))

    assert refusal("deploy", "toy") == (
        "error: tuning job 'toy' has no training job with an objective value yet; wait for one, or name a "
        "training job with --training-job"
    )
    assert refusal("deploy", "toy", "--training-job", "1").startswith(
        "error: training job 'toy-001' (Failed) saved no model in "
    )


def test_a_port_in_use_is_refused(model_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refusal(
            "deploy", "--model-dir", str(model_dir), "--entry-point", str(SCRIPTS / "doubler.py"), "--port", str(port)
        )

    assert line == f"error: port {port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)"


def test_without_the_server_extra_the_install_command_is_named(model_dir: Path) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None; sys.argv = ['modeltune', 'deploy', '--model-dir', sys.argv[1], "
        "'--entry-point', sys.argv[2]]; from modeltune.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(model_dir), str(SCRIPTS / "doubler.py")], capture_output=True, text=True
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: serving a model needs uvicorn, which is not installed; install it with pip install 'modeltune[server]'"
    ]
