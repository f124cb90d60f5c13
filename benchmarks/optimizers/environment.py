"""What the benchmark ran on: versions, machine and command, kept beside the results."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.optimizers.results import ENV_FILE

PACKAGES = [
    "modeltune",
    "numpy",
    "scipy",
    "scikit-learn",
    "optuna",
    "hyperopt",
    "scikit-optimize",
    "smac",
    "ConfigSpace",
    "torch",
]


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def record_environment(out: Path, argv: list[str], unavailable: dict[str, str], plan: dict[str, Any]) -> dict[str, Any]:
    """Add this invocation to ``environment.json`` in ``out`` and return the file's content.

    ``plan`` lists the problems, optimizers, seeds, modes and budget asked for, so the
    summary can say which runs are missing.
    """
    path = out / ENV_FILE
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"invocations": []}
    data["invocations"].append(
        {
            "started": dt.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(["python -m benchmarks.optimizers.run", *argv[1:]]),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "commit": _commit(),
            "versions": {p: _version(p) for p in PACKAGES},
            "unavailable": unavailable,
            "plan": plan,
        }
    )
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data
