"""The training-job contract: argv, files and environment a SageMaker script-mode script expects.

Folder layout of one training job (``output_dir``), as under ``/opt/ml`` in SageMaker::

    input/config/hyperparameters.json   name -> value as a string
    input/config/inputdataconfig.json   one entry per channel
    input/config/resourceconfig.json    current_host, hosts
    input/data/<channel>                a link to each channel's folder
    model/                              SM_MODEL_DIR
    output/                             SM_OUTPUT_DIR (a ``failure`` file here gives the failure reason)
    output/data/                        SM_OUTPUT_DATA_DIR
    output/intermediate/                SM_OUTPUT_INTERMEDIATE_DIR
    metrics.jsonl                       MODELTUNE_METRICS_FILE (``modeltune.report``)
    hypertune/output.metrics            CLOUD_ML_HP_METRIC_FILE (cloudml-hypertune)
    output.log                          stdout and stderr
    supervisor.json, exit.json          the supervisor's control files (see ``supervisor``)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modeltune.errors import SpecError
from modeltune.executors.base import JobFiles, LaunchRequest
from modeltune.metrics.report import METRICS_FILE, METRICS_FILE_VARIABLE
from modeltune.resources import Allocation
from modeltune.spec import TuningJobSpec

# Commands that mean "the Python running modeltune", so a venv need not be activated.
_PYTHON_NAMES = {"python", "python3", f"python3.{sys.version_info.minor}"}
HOST = "algo-1"
# The training job's stdout and stderr, in its folder.
LOG_FILE = "output.log"


def resolve_command(command: list[str], source_dir: str) -> list[str]:
    """The argv to run: ``python`` becomes this interpreter; a missing program is a SpecError."""
    program = command[0]
    if program in _PYTHON_NAMES:
        return [sys.executable, *command[1:]]
    if os.sep in program:
        path = Path(source_dir) / program
        if not path.exists():
            raise SpecError(f"training command {program!r} does not exist in {source_dir}; check training.command")
        # Absolute, but links kept: a virtual environment's python is a link, and run through the file it
        # points to it would leave the environment (its packages, and its faster start-up).
        return [os.path.abspath(path), *command[1:]]
    if shutil.which(program) is None:
        raise SpecError(f"training command {program!r} was not found on PATH; check training.command")
    return list(command)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def command_line_arguments(hyperparameters: Mapping[str, Any]) -> list[str]:
    """``--name value`` pairs sorted by name (``-k value`` for a one-character name), as SageMaker does."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        args += [f"-{name}" if len(name) == 1 else f"--{name}", _text(hyperparameters[name])]
    return args


def prepare_launch(
    spec: TuningJobSpec,
    training_job_name: str,
    hyperparameters: Mapping[str, Any],
    output_dir: Path,
    trial_id: int,
    allocation: Allocation | None = None,
) -> LaunchRequest:
    """Create the training job's folders and files in ``output_dir``, and the request that starts it.

    With an ``allocation`` the job sees only its own GPUs (``CUDA_VISIBLE_DEVICES``, empty for none)
    and its own CPU and GPU counts (``SM_NUM_CPUS``, ``SM_NUM_GPUS``); without one, the machine's.
    """
    config_dir = output_dir / "input" / "config"
    model_dir, out_dir = output_dir / "model", output_dir / "output"
    for folder in (config_dir, model_dir, out_dir / "data", out_dir / "intermediate", output_dir / "hypertune"):
        folder.mkdir(parents=True, exist_ok=True)
    training = spec.training
    all_hps = {**training.static_hyperparameters, **hyperparameters}
    hps_as_text = {name: _text(value) for name, value in all_hps.items()}
    hps_file = {**hps_as_text, "_tuning_objective_metric": spec.objective.metric}
    (config_dir / "hyperparameters.json").write_text(json.dumps(hps_file, indent=2, sort_keys=True))
    channels = dict(training.channels)
    input_data_config = {
        name: {"TrainingInputMode": "File", "ContentType": "", "S3DistributionType": "FullyReplicated"}
        for name in channels
    }
    (config_dir / "inputdataconfig.json").write_text(json.dumps(input_data_config, indent=2))
    resource = {"current_host": HOST, "hosts": [HOST], "network_interface_name": "lo"}
    (config_dir / "resourceconfig.json").write_text(json.dumps(resource, indent=2))
    _link_channels(output_dir / "input" / "data", channels)

    user_args = command_line_arguments(all_hps)
    num_cpus = max(1, math.floor(allocation.cpus)) if allocation else os.cpu_count() or 1
    num_gpus = len(allocation.gpus) if allocation else 0
    env = {
        "TRAINING_JOB_NAME": training_job_name,
        "SM_LOG_LEVEL": "20",
        "SM_HPS": json.dumps(all_hps, sort_keys=True),
        "SM_USER_ARGS": json.dumps(user_args),
        "SM_MODEL_DIR": str(model_dir),
        "SM_INPUT_DIR": str(output_dir / "input"),
        "SM_INPUT_CONFIG_DIR": str(config_dir),
        "SM_OUTPUT_DIR": str(out_dir),
        "SM_OUTPUT_DATA_DIR": str(out_dir / "data"),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(out_dir / "intermediate"),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config, sort_keys=True),
        "SM_RESOURCE_CONFIG": json.dumps(resource, sort_keys=True),
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": str(num_gpus),
        METRICS_FILE_VARIABLE: str(output_dir / METRICS_FILE),
        "CLOUD_ML_HP_METRIC_FILE": str(output_dir / "hypertune" / "output.metrics"),
        "CLOUD_ML_TRIAL_ID": str(trial_id),
        "TF_CONFIG": json.dumps({"task": {"type": "master", "index": 0, "trial": str(trial_id)}}),
    }
    env.update({f"SM_CHANNEL_{name.upper()}": path for name, path in channels.items()})
    env.update({f"SM_HP_{name.upper()}": value for name, value in hps_as_text.items()})
    env["SM_TRAINING_ENV"] = json.dumps(
        {
            "job_name": training_job_name,
            "hyperparameters": all_hps,
            "channel_input_dirs": channels,
            "model_dir": str(model_dir),
            "output_dir": str(out_dir),
            "output_data_dir": str(out_dir / "data"),
            "current_host": HOST,
            "hosts": [HOST],
            "num_cpus": num_cpus,
            "num_gpus": num_gpus,
            "user_args": user_args,
        }
    )
    if allocation is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(allocation.gpus)
    env.update(training.environment)
    argv = resolve_command(training.command, training.source_dir) + user_args
    files = JobFiles(training_job_name, output_dir / LOG_FILE, output_dir)
    return LaunchRequest(files, argv, Path(training.source_dir), env)


def _link_channels(data_dir: Path, channels: Mapping[str, str]) -> None:
    """``input/data/<channel>`` as a link to each channel's folder, where ``/opt/ml`` scripts look."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, path in channels.items():
        link = data_dir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(path, target_is_directory=True)


def failure_file_reason(output_dir: Path) -> str | None:
    """The reason a training job wrote to ``output/failure``, if it did."""
    try:
        text = (output_dir / "output" / "failure").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return text[:2000] or None
