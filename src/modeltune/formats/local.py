"""What an import needs from the user beyond the foreign document, and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modeltune.spec import TuningJobSpec


@dataclass(frozen=True)
class LocalSettings:
    """The local side of a foreign request: the command, code folder, channel folders and job name.

    Each replaces what the document says; ``None`` (or no channel) keeps the document's value.
    """

    command: list[str] | None = None
    source_dir: str | None = None
    channels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True)
class Imported:
    """A foreign document as a native spec, with the warning about fields it could not use."""

    spec: TuningJobSpec
    warning: str | None


@dataclass(frozen=True)
class Exported:
    """A spec in a foreign shape, with the native settings that shape cannot hold."""

    document: dict[str, Any]
    lost: list[str]

    def warning(self, form: str) -> str | None:
        """One sentence listing what the document leaves out, or None."""
        if not self.lost:
            return None
        return f"the {form} document cannot hold these settings, which are left out: {', '.join(self.lost)}"


def lost_settings(spec: TuningJobSpec, keeps: set[str]) -> list[str]:
    """Native settings that differ from their defaults and are not in ``keeps`` (dotted names)."""
    defaults: dict[str, Any] = {
        "training.environment": {},
        "training.tensorboard_dir": None,
        "training.stop_grace_seconds": 30.0,
        "training.max_retry_attempts": 0,
        "limits.max_total_training_jobs": 500,
        "limits.max_failed_jobs": None,
        "limits.max_runtime_per_training_job": None,
        "limits.max_runtime": None,
        "early_stopping.min_steps": 3,
        "early_stopping.min_peers": 3,
        "executor": "local",
        "integrations.mlflow": None,
        "random_seed": None,
        "completion_criteria.target_objective_value": None,
        "completion_criteria.best_objective_not_improving": None,
        "completion_criteria.convergence_detected": None,
    }
    data = spec.model_dump(mode="json")
    lost = []
    for dotted, default in defaults.items():
        if dotted in keeps:
            continue
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value != default:
            lost.append(dotted)
    return lost
