"""Vertex AI HyperparameterTuningJob / StudySpec files: run as they are, exported back, refused when wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modeltune.formats import LocalSettings
from modeltune.formats.vertex import import_job
from modeltune.spec import TuningJobSpec

from .support import FORMATS, assert_one_line_error
from helpers import modeltune_cli

JOB = FORMATS / "vertex" / "hp_tuning_job.yaml"
TRAINER_FOLDER = FORMATS / "cloudml"


def test_a_study_spec_runs_end_to_end_and_exports_back(home: Path) -> None:
    result = modeltune_cli("run", "--vertex", str(JOB), "--source-dir", str(TRAINER_FOLDER), timeout=300)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "machineSpec.machineType=n1-standard-4" in warning[0]
    assert "pythonPackageSpec.packageUris[0]=gs://my-bucket/trainer-0.1.tar.gz" in warning[0]
    spec = TuningJobSpec.model_validate(yaml.safe_load(modeltune_cli("spec", "census-vertex", check=True).stdout))
    assert spec.training.command == ["python", "-m", "trainer.task", "--tag", "accuracy", "--steps", "2"]
    assert spec.strategy == "Random" and spec.early_stopping.type == "Auto"
    assert (spec.max_jobs, spec.limits.max_parallel_jobs, spec.limits.max_failed_jobs) == (4, 2, 2)
    assert spec.ranges["hidden1"].min == 40 and spec.ranges["beta"].scaling == "MirroredLogarithmic"  # type: ignore[union-attr]
    described = json.loads(modeltune_cli("describe", "census-vertex", "--json", check=True).stdout)
    assert described["TrainingJobStatusCounters"]["Completed"] + described["TrainingJobStatusCounters"]["Stopped"] == 4
    assert described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "accuracy"

    exported = modeltune_cli("spec", "census-vertex", "--format", "vertex", check=True)
    assert exported.stderr.strip().endswith("which are left out: random_seed")
    again = import_job(yaml.safe_load(exported.stdout), "exported.yaml", LocalSettings(source_dir=str(TRAINER_FOLDER)))
    assert again.warning is None
    assert again.spec == spec.model_copy(update={"random_seed": None})


def test_a_gcloud_config_takes_its_counts_from_the_command_line(home: Path) -> None:
    document = yaml.safe_load(JOB.read_text())
    config = {"studySpec": document["studySpec"], "trialJobSpec": document["trialJobSpec"]}
    imported = import_job(config, "config.yaml", LocalSettings(name="from-gcloud"))
    assert imported.spec.name == "from-gcloud" and imported.spec.max_jobs == 1


def _changed(change: Any) -> dict[str, Any]:
    document = yaml.safe_load(JOB.read_text())
    change(document)
    return document


PARAMETERS = "studySpec.parameters"


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            lambda d: d["studySpec"]["metrics"].append({"metricId": "loss", "goal": "MINIMIZE"}),
            ["studySpec.metrics: modeltune tunes one objective metric, got 2"],
        ),
        (lambda d: d["studySpec"]["metrics"][0].pop("goal"), ["studySpec.metrics[0].goal is required but missing"]),
        (
            lambda d: d["studySpec"]["parameters"][1]["integerValueSpec"].update(minValue="4.5"),
            [f"{PARAMETERS}[1].integerValueSpec.minValue: must be a whole number, got '4.5'"],
        ),
        (
            lambda d: d["studySpec"]["parameters"][0].update(integerValueSpec={"minValue": 1, "maxValue": 2}),
            [f"{PARAMETERS}[0]: give exactly one of doubleValueSpec"],
        ),
        (
            lambda d: d["studySpec"]["parameters"][4].update(scaleType="UNIT_LOG_SCALE"),
            [f"{PARAMETERS}[4].scaleType: does not apply to a categorical parameter"],
        ),
        (lambda d: d["studySpec"].update(algorithm="BAYES"), ["studySpec.algorithm: unknown value 'BAYES'"]),
        (
            lambda d: d["studySpec"]["parameters"][4].update(conditionalParameterSpecs=[{}]),
            ["conditional parameters are not supported"],
        ),
        (
            lambda d: d["studySpec"]["parameters"][0]["doubleValueSpec"].update(minValue=0.5),
            [f"{PARAMETERS}[0]: min (0.5) must be less than max (0.1)"],
        ),
        (lambda d: d.update(displayName="census vertex"), ["displayName: 'census vertex' is not a valid"]),
        (lambda d: d.update(maxTrialCount=[4]), ["maxTrialCount: must be a whole number, got list"]),
        (lambda d: d["studySpec"].update(paramters=[]), ["did you mean 'parameters'"]),
    ],
)
def test_bad_job_is_one_line_naming_the_field(home: Path, tmp_path: Path, change: Any, fragments: list[str]) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(_changed(change)))
    result = modeltune_cli("run", "--vertex", str(path), "--command", "python -m trainer.task")
    assert_one_line_error(result, "job.yaml: ", *fragments)
