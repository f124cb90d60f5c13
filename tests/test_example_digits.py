"""The README's digits example, on a small budget: real scikit-learn training under modeltune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import modeltune_cli

SPEC = Path(__file__).parents[1] / "examples" / "digits" / "spec.yaml"


@pytest.mark.slow
def test_digits_example_tunes_a_random_forest_and_keeps_the_models(home: Path) -> None:
    result = modeltune_cli("run", str(SPEC), "--max-jobs", "4", "--name", "digits-small", timeout=600)

    assert result.returncode == 0, result.stderr
    assert "Tuning job digits-small Completed" in result.stdout
    description = json.loads(modeltune_cli("describe", "digits-small", "--json", check=True).stdout)
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    best = description["BestTrainingJob"]
    assert 0.5 < best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] <= 1.0
    assert set(best["TunedHyperParameters"]) == {"n-estimators", "max-depth", "min-samples-leaf", "max-features"}
    [model] = home.glob(f"jobs/*/digits-small/{best['TrainingJobName']}/model/model.joblib")
    assert model.stat().st_size > 0
    log = modeltune_cli("logs", "digits-small", best["TrainingJobName"], check=True).stdout
    assert log.startswith("pre: ") and " f1: " in log
