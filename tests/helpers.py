"""Helpers shared by tests: a spec for the toy training script and the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
TOY_SCRIPT = FIXTURES / "toy_train.py"


def toy_spec(name: str = "toy", mode: str = "ok", **overrides: Any) -> dict[str, Any]:
    """A spec dict for the toy script: minimise loss over x, k and kind."""
    spec: dict[str, Any] = {
        "name": name,
        "training": {
            "command": ["python", str(TOY_SCRIPT)],
            "source_dir": str(FIXTURES),
            "static_hyperparameters": {"mode": mode},
            "metric_definitions": [{"name": "loss", "regex": r"loss: (-?[0-9.eE+-]+)"}],
            "stop_grace_seconds": 5,
        },
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {
            "x": {"type": "Continuous", "min": 0.0, "max": 1.0},
            "k": {"type": "Integer", "min": 1, "max": 3},
            "kind": {"type": "Categorical", "values": ["a", "b"]},
        },
        "strategy": "Random",
        "limits": {"max_jobs": 4, "max_parallel_jobs": 2},
        "random_seed": 7,
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            spec[section] = {**spec[section], field: value}
        else:
            spec[key] = value
    return spec


def run_to_end(store: Any, spec: dict[str, Any]) -> Any:
    """Submit ``spec`` to ``store`` and run its controller in this process until the tuning job ends."""
    from modeltune.controller import service
    from modeltune.controller.loop import Controller
    from modeltune.spec import parse_spec

    job = service.submit(store, parse_spec(spec))
    return Controller(store, job.name).run()


def write_spec(folder: Path, spec: dict[str, Any], filename: str = "spec.yaml") -> Path:
    """Write ``spec`` as YAML into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def modeltune_cli(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real ``modeltune`` command line in a subprocess (environment inherited)."""
    result = subprocess.run(
        [sys.executable, "-m", "modeltune", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"modeltune {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result
