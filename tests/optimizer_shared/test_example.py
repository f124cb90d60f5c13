"""The README's shared-study example on a small budget: real processes, real scikit-learn, one model kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modeltune import Optimizer

RUN = Path(__file__).parents[2] / "examples" / "shared_study" / "run.py"


@pytest.mark.slow
def test_only_the_process_with_the_global_best_keeps_its_model(home: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    args = ["--name", "svm", "--processes", "3", "--trials", "2", "--model-dir", str(models)]
    result = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    [kept] = models.glob("*/model.pkl")
    assert "models kept: 1 of 3 processes" in result.stdout

    best = Optimizer(
        {
            "C": {"type": "Continuous", "min": 1e-3, "max": 1e3, "scaling": "Logarithmic"},
            "gamma": {"type": "Continuous", "min": 1e-5, "max": 1e-1, "scaling": "Logarithmic"},
        },
        "Maximize",
        name="svm",
        load_if_exists=True,
    ).best
    assert best is not None and best.attributes is not None
    assert Path(best.attributes["model_path"]) == kept
    assert kept.parent.name == best.attributes["process"]
    assert f"best {best.name}: accuracy {best.value:.4f}" in result.stdout
