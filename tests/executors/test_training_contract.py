"""The training-job contract: files, environment and argv a SageMaker script-mode script expects."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from modeltune.errors import SpecError
from modeltune.executors import LocalExecutor
from modeltune.executors.contract import (
    command_line_arguments,
    failure_file_reason,
    prepare_launch,
    resolve_command,
)
from modeltune.spec import TuningJobSpec, parse_spec

from .support import Jobs


def make_spec(source_dir: Path, **training: Any) -> TuningJobSpec:
    return parse_spec(
        {
            "name": "xgb",
            "training": {
                "command": "python train.py --verbose",
                "source_dir": str(source_dir),
                "static_hyperparameters": {"objective": "binary:logistic", "early_stop": True, "k": 5},
                "metric_definitions": [{"name": "validation:auc", "regex": r"auc=([0-9.]+)"}],
                "channels": {"train": str(source_dir / "data" / "train"), "Validation": str(source_dir / "val")},
                **training,
            },
            "objective": {"metric": "validation:auc"},
            "ranges": {
                "eta": {"type": "Continuous", "min": 1e-5, "max": 0.5},
                "max-depth": {"type": "Integer", "min": 2, "max": 10},
                "booster": {"type": "Categorical", "values": ["gbtree", "dart"]},
            },
        }
    )


HPS = {"eta": 1e-05, "max-depth": 6, "booster": "dart"}


@pytest.fixture
def prepared(tmp_path: Path):  # type: ignore[no-untyped-def]
    source = tmp_path / "code"
    source.mkdir()
    (source / "train.py").write_text("print('hi')\n")
    spec = make_spec(source)
    output = tmp_path / "jobs" / "xgb-001"
    request = prepare_launch(spec, "xgb-001", HPS, output, trial_id=1)
    return spec, output, request


def test_config_files(prepared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, output, _ = prepared
    config = output / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == {
        "eta": "1e-05",
        "max-depth": "6",
        "booster": "dart",
        "objective": "binary:logistic",
        "early_stop": "True",
        "k": "5",
        "_tuning_objective_metric": "validation:auc",
    }
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        name: {"TrainingInputMode": "File", "ContentType": "", "S3DistributionType": "FullyReplicated"}
        for name in ("train", "Validation")
    }
    assert json.loads((config / "resourceconfig.json").read_text()) == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
        "network_interface_name": "lo",
    }
    for folder in ("model", "output/data", "output/intermediate"):
        assert (output / folder).is_dir()
    # Channels are where /opt/ml scripts look for them too.
    assert (output / "input" / "data" / "train").resolve() == tmp_path / "code" / "data" / "train"
    assert (output / "input" / "data" / "Validation").resolve() == tmp_path / "code" / "val"


def test_environment(prepared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, output, request = prepared
    env = request.env
    assert all(isinstance(v, str) for v in env.values())
    assert json.loads(env["SM_HPS"]) == {**HPS, "objective": "binary:logistic", "early_stop": True, "k": 5}
    assert env["SM_HP_ETA"] == "1e-05"
    assert env["SM_HP_MAX-DEPTH"] == "6"  # upper-cased, hyphen kept, as SageMaker does
    assert env["SM_HP_BOOSTER"] == "dart"
    assert env["SM_HP_EARLY_STOP"] == "True"
    assert env["SM_HP_K"] == "5"
    assert env["SM_MODEL_DIR"] == str(output / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(output / "output" / "data")
    assert env["SM_CHANNEL_TRAIN"] == str(tmp_path / "code" / "data" / "train")
    assert env["SM_CHANNEL_VALIDATION"] == str(tmp_path / "code" / "val")
    assert json.loads(env["SM_CHANNELS"]) == ["Validation", "train"]
    assert json.loads(env["SM_USER_ARGS"]) == request.argv[3:]
    assert env["TRAINING_JOB_NAME"] == "xgb-001"
    assert env["SM_LOG_LEVEL"] == "20"
    assert json.loads(env["SM_RESOURCE_CONFIG"])["current_host"] == "algo-1"
    assert set(json.loads(env["SM_INPUT_DATA_CONFIG"])) == {"train", "Validation"}
    assert env["MODELTUNE_METRICS_FILE"] == str(output / "metrics.jsonl")
    assert env["CLOUD_ML_HP_METRIC_FILE"] == str(output / "hypertune" / "output.metrics")
    assert (output / "hypertune").is_dir()
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "xgb-001"
    assert training_env["hyperparameters"]["max-depth"] == 6
    assert training_env["channel_input_dirs"] == {
        "train": env["SM_CHANNEL_TRAIN"],
        "Validation": env["SM_CHANNEL_VALIDATION"],
    }
    assert training_env["model_dir"] == env["SM_MODEL_DIR"]
    assert training_env["output_data_dir"] == env["SM_OUTPUT_DATA_DIR"]
    assert training_env["user_args"] == json.loads(env["SM_USER_ARGS"])


def test_argv_and_working_directory(prepared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, output, request = prepared
    assert request.argv == [
        sys.executable,
        "train.py",
        "--verbose",
        "--booster",
        "dart",
        "--early_stop",
        "True",
        "--eta",
        "1e-05",
        "-k",
        "5",
        "--max-depth",
        "6",
        "--objective",
        "binary:logistic",
    ]
    assert request.cwd == tmp_path / "code"
    assert request.name == "xgb-001"
    assert request.files.log_path == output / "output.log"


def test_command_line_arguments_sorted_with_short_names() -> None:
    assert command_line_arguments({"lr": 0.1, "b": False, "a": "x y", "epochs": 10}) == [
        "-a",
        "x y",
        "-b",
        "False",
        "--epochs",
        "10",
        "--lr",
        "0.1",
    ]


def test_spec_environment_is_added_and_wins(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, environment={"OMP_NUM_THREADS": "1", "SM_NUM_GPUS": "2"})
    request = prepare_launch(spec, "j", {}, tmp_path / "out", trial_id=3)
    assert request.env["OMP_NUM_THREADS"] == "1"
    assert request.env["SM_NUM_GPUS"] == "2"
    assert request.env["CLOUD_ML_TRIAL_ID"] == "3"


@pytest.mark.parametrize("name", ["python", "python3", f"python3.{sys.version_info.minor}"])
def test_python_resolves_to_this_interpreter(name: str, tmp_path: Path) -> None:
    assert resolve_command([name, "-u", "train.py"], str(tmp_path)) == [sys.executable, "-u", "train.py"]


def test_relative_program_resolves_in_source_dir(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "train.sh").write_text("#!/bin/sh\n")
    assert resolve_command(["./bin/train.sh", "--x"], str(tmp_path)) == [str(tmp_path / "bin" / "train.sh"), "--x"]


def test_a_program_that_is_a_link_is_run_through_the_link(tmp_path: Path) -> None:
    # A virtual environment's python is a link to the base interpreter; run through the link's target, it
    # would not see the environment's packages.
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    program = str(tmp_path / "venv" / "bin" / "python")
    assert resolve_command([program, "train.py"], str(tmp_path)) == [program, "train.py"]
    assert resolve_command(["venv/bin/python", "train.py"], str(tmp_path)) == [program, "train.py"]


def test_program_on_path_is_kept(tmp_path: Path) -> None:
    assert resolve_command(["sh", "-c", "true"], str(tmp_path)) == ["sh", "-c", "true"]


def test_missing_program_in_source_dir_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc_info:
        prepare_launch(make_spec(tmp_path, command=["./train.sh"]), "j", {}, tmp_path / "out", trial_id=1)
    assert str(exc_info.value) == f"training command './train.sh' does not exist in {tmp_path}; check training.command"


def test_missing_program_on_path_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc_info:
        resolve_command(["no-such-trainer-xyz", "train.py"], str(tmp_path))
    assert str(exc_info.value) == "training command 'no-such-trainer-xyz' was not found on PATH; check training.command"


def test_failure_file_reason(tmp_path: Path) -> None:
    assert failure_file_reason(tmp_path) is None
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "failure").write_text("  \n")
    assert failure_file_reason(tmp_path) is None
    (tmp_path / "output" / "failure").write_text("CUDA out of memory\n" + "x" * 3000)
    reason = failure_file_reason(tmp_path)
    assert reason is not None and reason.startswith("CUDA out of memory\n") and len(reason) == 2000


SAGEMAKER_SCRIPT = """
import argparse, json, os
parser = argparse.ArgumentParser()
parser.add_argument("--eta", type=float)
parser.add_argument("--max-depth", type=int)
parser.add_argument("--booster")
parser.add_argument("--objective")
parser.add_argument("--early_stop")
parser.add_argument("-k", type=int)
parser.add_argument("--verbose", action="store_true")
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
args = parser.parse_args()
with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json")) as f:
    assert json.load(f)["max-depth"] == "6"
with open(os.path.join(args.model_dir, "model.txt"), "w") as f:
    f.write(f"{args.eta} {args.max_depth} {args.booster} {args.k} {args.verbose} {args.train}")
import modeltune
modeltune.report(**{"validation:auc": 0.875})
print(f"auc={0.875}")
"""


def test_a_sagemaker_script_mode_script_runs_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "code"
    source.mkdir()
    (source / "train.py").write_text(SAGEMAKER_SCRIPT)
    output = tmp_path / "jobs" / "xgb-001"
    request = prepare_launch(make_spec(source), "xgb-001", HPS, output, trial_id=1)
    executor = LocalExecutor()
    jobs = Jobs(executor, tmp_path)
    executor.launch(request)
    try:
        exit_event = jobs.wait_exit("xgb-001")
    finally:
        executor.close()
    assert exit_event.exit_code == 0, jobs.lines("xgb-001")
    assert jobs.lines("xgb-001") == ["auc=0.875"]
    assert (output / "model" / "model.txt").read_text() == f"1e-05 6 dart 5 True {source / 'data' / 'train'}"
    [reported] = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    assert (reported["name"], reported["value"]) == ("validation:auc", 0.875)
    assert "SM_MODEL_DIR" not in os.environ  # the job's environment does not leak into ours
