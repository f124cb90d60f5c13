"""Serving fixtures: a model folder and a finished tuning job of the toy training script."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeltune.store import Store

from helpers import run_to_end, toy_spec


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A model folder like the toy training script's (``model.txt``)."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.txt").write_text("0.25")
    return folder


@pytest.fixture
def toy_job(home: Path) -> str:
    """A finished tuning job named ``toy`` of the toy training script (which saves ``model/model.txt``)."""
    run_to_end(Store(), toy_spec(limits={"max_jobs": 2, "max_parallel_jobs": 2}))
    return "toy"
