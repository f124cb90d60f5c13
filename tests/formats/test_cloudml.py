"""Cloud ML hptuning_config.yaml files: run as they are with cloudml-hypertune, resumed, exported, described."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modeltune.formats import LocalSettings
from modeltune.formats.cloudml import import_config
from modeltune.spec import TuningJobSpec

from .support import FORMATS, assert_one_line_error
from helpers import modeltune_cli

CLOUDML = FORMATS / "cloudml"


def _run(config: Path, *extra: str) -> Any:
    result = modeltune_cli("run", "--cloudml", str(config), "--source-dir", str(CLOUDML), *extra, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _spec(name: str) -> TuningJobSpec:
    return TuningJobSpec.model_validate(yaml.safe_load(modeltune_cli("spec", name, check=True).stdout))


def _cloudml(name: str) -> dict[str, Any]:
    return json.loads(modeltune_cli("describe", name, "--format", "cloudml", check=True).stdout)


def test_the_articles_config_runs_then_resumes(home: Path) -> None:
    first = _run(
        CLOUDML / "hptuning_config.yaml",
        "--command",
        "python -m trainer.task",
        "--name",
        "census_hptuning",
        "--max-jobs",
        "4",
    )
    warnings = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "trainingInput.scaleTier=CUSTOM" in warnings[0]
    assert "trainingInput.workerCount=9" in warnings[0]
    spec = _spec("census_hptuning")
    assert spec.objective.metric == "metric1" and spec.objective.type == "Maximize"
    assert spec.early_stopping.type == "Auto"
    assert spec.ranges["numRnnCells"].type == "Discrete"
    described = _cloudml("census_hptuning")
    output = described["trainingOutput"]
    assert described["state"] == "SUCCEEDED" and output["isHyperparameterTuningJob"] is True
    assert output["hyperparameterMetricTag"] == "metric1" and len(output["trials"]) == 4
    trials = output["trials"]
    values = [t["finalMetric"]["objectiveValue"] for t in trials if "finalMetric" in t]
    assert values == sorted(values, reverse=True) and values
    for trial in trials:
        assert set(trial["hyperparameters"]) == {"hidden1", "numRnnCells", "rnnCellType"}
        assert all(isinstance(v, str) for v in trial["hyperparameters"].values())
        assert isinstance(trial["isTrialStoppedEarly"], bool)
        if not trial["isTrialStoppedEarly"]:  # cloudml-hypertune's last report: step 300
            assert trial["finalMetric"]["trainingStep"] == "300"

    _run(CLOUDML / "hptuning_resume.yaml", "--name", "census_resumed", "--max-jobs", "2")
    resumed = _spec("census_resumed")
    assert resumed.warm_start is not None and resumed.warm_start.parents == ["census_hptuning"]
    assert resumed.ranges == spec.ranges and resumed.objective == spec.objective
    assert resumed.training.command == ["python", "-m", "trainer.task"]
    assert len(_cloudml("census_resumed")["trainingOutput"]["trials"]) == 2


def test_every_type_and_scale_runs_and_exports_back(home: Path, tmp_path: Path) -> None:
    _run(CLOUDML / "hptuning_scales.yaml")
    spec = _spec("census_scales")
    assert spec.training.command == ["python", "-m", "trainer.task", "--steps", "2"]
    assert spec.strategy == "Random" and spec.limits.max_failed_jobs == 2 and spec.max_jobs == 4
    scalings = {name: getattr(r, "scaling", None) for name, r in spec.ranges.items()}
    assert scalings == {
        "hidden1": "Linear",
        "learningRate": "Logarithmic",
        "beta": "MirroredLogarithmic",
        "numRnnCells": "Logarithmic",
        "rnnCellType": None,
    }
    for trial in _cloudml("census_scales")["trainingOutput"]["trials"]:
        assert 0.9 <= float(trial["hyperparameters"]["beta"]) <= 0.9999
        assert trial["hyperparameters"]["numRnnCells"] in {"1", "2", "4", "8"}

    exported = modeltune_cli("spec", "census_scales", "--format", "cloudml", check=True)
    # the stored job has the seed modeltune drew for it; a Cloud ML config has no place for one
    assert exported.stderr.strip().endswith("which are left out: random_seed")
    again = import_config(yaml.safe_load(exported.stdout), "exported.yaml", LocalSettings(), _no_previous)
    local = {"source_dir": str(Path.cwd())}
    assert again.spec == spec.model_copy(
        update={"training": spec.training.model_copy(update=local), "random_seed": None}
    )


def _no_previous(name: str) -> dict[str, Any]:
    raise AssertionError(f"no previous job expected, asked for {name}")


def test_max_failed_trials_ends_the_job_failed_with_that_reason(home: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((CLOUDML / "hptuning_scales.yaml").read_text())
    config["jobId"] = "crashing"
    config["trainingInput"]["args"] = ["--crash"]
    config["trainingInput"]["hyperparameters"].update({"maxTrials": 6, "maxParallelTrials": 1})
    path = tmp_path / "crashing.yaml"
    path.write_text(yaml.safe_dump(config))
    result = modeltune_cli("run", "--cloudml", str(path), "--source-dir", str(CLOUDML), timeout=300)
    assert result.returncode == 1
    described = _cloudml("crashing")
    assert described["state"] == "FAILED"
    assert "max_failed_jobs" in described["errorMessage"]
    assert len(described["trainingOutput"]["trials"]) == 2


def _with(change: Any) -> dict[str, Any]:
    config = yaml.safe_load((CLOUDML / "hptuning_config.yaml").read_text())
    change(config["trainingInput"]["hyperparameters"])
    return config


PARAMS = "trainingInput.hyperparameters.params"


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda h: h["params"][0].update(type="FLOAT"), [f"{PARAMS}[0].type: unknown value 'FLOAT'", "DOUBLE"]),
        (lambda h: h["params"][0].pop("minValue"), [f"{PARAMS}[0].minValue is required but missing"]),
        (lambda h: h["params"][0].update(minValue=4.5), [f"{PARAMS}[0].minValue: must be a whole number, got 4.5"]),
        (lambda h: h["params"][2].update(scaleType="UNIT_LOG_SCALE"), [f"{PARAMS}[2].scaleType: does not apply"]),
        (lambda h: h["params"][1].update(discreteValues=[4, 2]), [f"{PARAMS}[1]: Discrete values must be strictly"]),
        (lambda h: h.pop("goal"), ["trainingInput.hyperparameters.goal is required but missing"]),
        (lambda h: h.update(goal="BIGGER"), ["goal: unknown value 'BIGGER'; use one of MAXIMIZE, MINIMIZE"]),
        (lambda h: h.update(maxTrials="many"), ["maxTrials: must be a whole number, got 'many'"]),
        (lambda h: h.update(enableTrialEarlyStoping=True), ["did you mean 'enableTrialEarlyStopping'"]),
        (
            lambda h: h.update(maxParallelTrials=40),
            ["hyperparameters.maxParallelTrials (40) cannot exceed trainingInput.hyperparameters.maxTrials (30)"],
        ),
        (
            lambda h: h["params"][0].update(minValue=0, scaleType="UNIT_REVERSE_LOG_SCALE"),
            [f"{PARAMS}[0]: MirroredLogarithmic scaling needs min > 0, got min 0"],
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_field(home: Path, tmp_path: Path, change: Any, fragments: list[str]) -> None:
    path = tmp_path / "hptuning_config.yaml"
    path.write_text(yaml.safe_dump(_with(change)))
    result = modeltune_cli("run", "--cloudml", str(path), "--command", "python -m trainer.task")
    assert_one_line_error(result, "hptuning_config.yaml: ", *fragments)


def test_resuming_a_job_that_does_not_exist_is_one_line(home: Path) -> None:
    result = modeltune_cli("run", "--cloudml", str(CLOUDML / "hptuning_resume.yaml"))
    assert_one_line_error(result, "census_hptuning")
