"""SageMaker CreateHyperParameterTuningJob requests: run as they are, exported back, refused when wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modeltune.formats import LocalSettings
from modeltune.formats.sagemaker import export_request, import_request, load_request
from modeltune.spec import TuningJobSpec

from .support import FORMATS, SAGEMAKER, TRAINER, assert_one_line_error, channels
from helpers import modeltune_cli


def _run(request: Path, tmp_path: Path, *extra: str) -> Any:
    result = modeltune_cli(
        "run",
        "--sagemaker",
        str(request),
        "--command",
        f"python {TRAINER}",
        "--source-dir",
        str(FORMATS),
        *channels(tmp_path / "data"),
        *extra,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _describe(name: str) -> dict[str, Any]:
    return json.loads(modeltune_cli("describe", name, "--json", check=True).stdout)


def test_warm_start_requests_of_both_types_run_end_to_end(home: Path, tmp_path: Path) -> None:
    parent = _run(SAGEMAKER / "parent.json", tmp_path, "--max-jobs", "3")
    warning = [line for line in parent.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1
    for field in ("RoleArn", "ResourceConfig", "OutputDataConfig", "AlgorithmSpecification.TrainingImage"):
        assert f"TrainingJobDefinition.{field}" in warning[0]
    assert _describe("MyParentTuningJob")["TrainingJobStatusCounters"]["Completed"] == 3

    _run(SAGEMAKER / "warm_start_identical.json", tmp_path, "--max-jobs", "2")
    identical = _describe("MyWarmStartTuningJob")
    assert identical["HyperParameterTuningJobStatus"] == "Completed"
    assert identical["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm"
    assert identical["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] >= max(
        identical["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        _describe("MyParentTuningJob")["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    )

    _run(SAGEMAKER / "warm_start_transfer_learning.json", tmp_path, "--max-jobs", "2")
    transfer = _describe("transferlearning")
    assert transfer["TrainingJobStatusCounters"]["Completed"] == 2
    assert transfer["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [
        {"HyperParameterTuningJobName": "MyParentTuningJob"},
        {"HyperParameterTuningJobName": "MyWarmStartTuningJob"},
    ]


def test_hyperband_request_reads_every_tuning_setting() -> None:
    local = LocalSettings(command=["python", TRAINER], source_dir=str(FORMATS), channels={"train": "/d/t"})
    request = json.loads((SAGEMAKER / "hyperband.json").read_text())
    request["TrainingJobDefinition"]["InputDataConfig"].pop()
    imported = import_request(request, "hyperband.json", local)
    spec = imported.spec
    assert spec.strategy == "Hyperband"
    assert (spec.hyperband.min_resource, spec.hyperband.max_resource) == (1, 9)  # type: ignore[union-attr]
    assert spec.limits.max_jobs == 12 and spec.limits.max_parallel_jobs == 3 and spec.limits.max_runtime == 3600
    assert spec.limits.max_runtime_per_training_job == 360000
    assert spec.random_seed == 42 and spec.training.max_retry_attempts == 1
    assert spec.completion_criteria.target_objective_value == 0.95
    assert spec.completion_criteria.best_objective_not_improving is not None
    assert spec.ranges["mini_batch_size"].scaling == "Logarithmic"  # type: ignore[union-attr]
    assert spec.ranges["optimizer"].values == ["sgd", "adam", "nag"]  # type: ignore[union-attr]
    assert spec.training.channels == {"train": "/d/t"}
    assert spec.training.static_hyperparameters["epochs"] == "9"
    assert imported.warning is not None and "ml.p3.8xlarge" in imported.warning


def test_hyperband_request_runs_end_to_end(home: Path, tmp_path: Path) -> None:
    _run(SAGEMAKER / "hyperband.json", tmp_path, "--max-jobs", "6")
    described = _describe("hyperband-image-classification")
    assert described["Strategy"] == "Hyperband"
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    counters = described["TrainingJobStatusCounters"]
    assert counters["Completed"] + counters["Stopped"] == 6


def test_exported_request_loads_back_to_the_same_job(home: Path, tmp_path: Path) -> None:
    _run(SAGEMAKER / "hyperband.json", tmp_path, "--max-jobs", "3")
    result = modeltune_cli("spec", "hyperband-image-classification", "--format", "sagemaker", check=True)
    assert "warning" not in result.stderr
    exported = tmp_path / "exported.json"
    exported.write_text(result.stdout)
    stored = json.loads(modeltune_cli("spec", "hyperband-image-classification", "--format", "sagemaker").stdout)
    assert stored["HyperParameterTuningJobConfig"]["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}
    }
    again = load_request(exported, LocalSettings())
    original = import_request(
        json.loads((SAGEMAKER / "hyperband.json").read_text()),
        "hyperband.json",
        LocalSettings(
            command=["python", TRAINER],
            source_dir=str(FORMATS),
            channels={name: str(tmp_path / "data" / name) for name in ("train", "validation")},
        ),
    ).spec
    assert again.warning is None
    assert again.spec == original.model_copy(update={"limits": original.limits.model_copy(update={"max_jobs": 3})})
    # and the command line takes it as it is
    second = modeltune_cli(
        "run",
        "--sagemaker",
        str(exported),
        "--name",
        "copy",
        "--max-jobs",
        "1",
        "--max-parallel-jobs",
        "1",
        timeout=300,
    )
    assert second.returncode == 0, second.stderr


def _mutated(tmp_path: Path, change: Any) -> Path:
    request = json.loads((SAGEMAKER / "parent.json").read_text())
    change(request)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    return path


def _set(path: str, value: Any) -> Any:
    def change(request: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = request
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return change


CONFIG = "HyperParameterTuningJobConfig"
CONTINUOUS = f"{CONFIG}.ParameterRanges.ContinuousParameterRanges"


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            _set(f"{CONFIG}.ResourceLimits.MaxParallelTrainingJobs", "two"),
            [f"{CONFIG}.ResourceLimits.MaxParallelTrainingJobs: must be a whole number, got 'two'"],
        ),
        (_set(f"{CONFIG}.Strategy", "Bayes"), [f"{CONFIG}.Strategy: unknown value 'Bayes'", "Bayesian"]),
        (
            _set(f"{CONFIG}.HyperParameterTuningJobObjective", KeyError),
            ["HyperParameterTuningJobObjective is required"],
        ),
        (_set(f"{CONTINUOUS}.0.MinValue", "0.5"), [f"{CONTINUOUS}[0]: min (0.5) must be less than max (0.05)"]),
        (_set(f"{CONTINUOUS}.1.ScalingType", "Log"), [f"{CONTINUOUS}[1].ScalingType: unknown value 'Log'"]),
        (_set(f"{CONFIG}.ResourceLimit", {}), ["unknown field 'ResourceLimit'", "did you mean 'ResourceLimits'"]),
        (_set(f"{CONFIG}.ParameterRanges.CategoricalParameterRanges", {"Name": "x"}), ["must be a list"]),
        (
            _set("WarmStartConfig", {"ParentHyperParameterTuningJobs": [], "WarmStartType": "IDENTICAL"}),
            ["WarmStartConfig.WarmStartType: unknown value 'IDENTICAL'"],
        ),
        (
            _set("WarmStartConfig", {"ParentHyperParameterTuningJobs": [], "WarmStartType": "TransferLearning"}),
            ["WarmStartConfig.ParentHyperParameterTuningJobs: needs at least 1 item"],
        ),
        (_set("TrainingJobDefinition.InputDataConfig.0.ChannelName", 7), ["ChannelName: must be text, got 7"]),
        (_set("HyperParameterTuningJobName", "my job"), ["HyperParameterTuningJobName: 'my job' is not a valid"]),
        (
            _set("TrainingJobDefinition.StaticHyperParameters.num layers", "18"),
            ["TrainingJobDefinition.StaticHyperParameters", "'num layers' is not a valid name"],
        ),
    ],
)
def test_bad_request_is_one_line_naming_the_field(
    home: Path, tmp_path: Path, change: Any, fragments: list[str]
) -> None:
    path = _mutated(tmp_path, change)
    result = modeltune_cli("run", "--sagemaker", str(path), "--command", "python t.py", *channels(tmp_path))
    assert_one_line_error(result, "request.json: ", *fragments)


def test_request_files_that_cannot_be_read_are_one_line(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"HyperParameterTuningJobName": "x",')
    assert_one_line_error(modeltune_cli("run", "--sagemaker", str(broken)), "broken.json: line 1: malformed JSON")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert_one_line_error(modeltune_cli("run", "--sagemaker", str(listed)), "list.json: the document must be a mapping")
    missing = modeltune_cli("run", "--sagemaker", str(tmp_path / "nope.json"))
    assert_one_line_error(missing, "does not exist")


def test_a_channel_without_a_local_folder_names_the_option(home: Path) -> None:
    result = modeltune_cli("run", "--sagemaker", str(SAGEMAKER / "parent.json"), "--command", "python t.py")
    assert_one_line_error(
        result,
        "TrainingJobDefinition.InputDataConfig[0].ChannelName: channel 'train' has no local folder",
        "--channel train=DIR",
    )


def test_a_request_without_a_script_asks_for_the_command(home: Path, tmp_path: Path) -> None:
    result = modeltune_cli("run", "--sagemaker", str(SAGEMAKER / "parent.json"), *channels(tmp_path))
    assert_one_line_error(result, "TrainingJobDefinition.StaticHyperParameters:", "--command")


def test_export_lists_what_the_request_cannot_hold() -> None:
    native = {
        "name": "native",
        "training": {"command": ["./train.sh"], "static_hyperparameters": {"layers": 3}},
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {"width": {"type": "Discrete", "values": [1, 2, 4]}},
        "limits": {"max_failed_jobs": 2},
    }
    exported = export_request(TuningJobSpec.model_validate(native))
    warning = exported.warning("SageMaker")
    assert warning is not None
    for setting in ("limits.max_failed_jobs", "training.command", "ranges.width", "static_hyperparameters"):
        assert setting in warning


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--sagemaker", "a.json", "--cloudml", "b.yaml"], "give exactly one of SPEC_FILE, --sagemaker, --cloudml"),
        (["spec.yaml", "--command", "python t.py"], "--command, --source-dir and --channel go with --sagemaker"),
        (["--sagemaker", str(SAGEMAKER / "parent.json"), "--channel", "train"], "--channel 'train' must be NAME=DIR"),
        (["--sagemaker", str(SAGEMAKER / "parent.json"), "--command", ""], "--command is empty"),
    ],
)
def test_option_mistakes_are_one_line(home: Path, args: list[str], fragment: str) -> None:
    assert_one_line_error(modeltune_cli("run", *args), fragment)


def test_unknown_output_forms_are_one_line(home: Path, tmp_path: Path) -> None:
    _run(SAGEMAKER / "parent.json", tmp_path, "--max-jobs", "1", "--max-parallel-jobs", "1")
    assert_one_line_error(modeltune_cli("spec", "MyParentTuningJob", "--format", "kubeflow"), "unknown format")
    assert_one_line_error(modeltune_cli("describe", "MyParentTuningJob", "--format", "vertex"), "use cloudml")
