"""Runners: where a tuning job's training jobs run and who records what they report.

The controller decides (what to launch, what to stop, when the tuning job ends); a runner
carries it out. ``LocalRunner`` runs training jobs as local processes and records their
metric values and outcomes itself; workers on other machines use it too. ``WorkerPoolRunner``
leaves the running to ``modeltune worker`` processes and follows their records in the store.

The names load lazily: a Ray task imports ``modeltune.runners.ray_task`` on every node, and it needs
none of the store or the spec.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeltune.runners.base import Runner, RunnerEvents
    from modeltune.runners.local import LocalRunner

_EXPORTS = {
    "LocalRunner": "modeltune.runners.local",
    "Runner": "modeltune.runners.base",
    "RunnerEvents": "modeltune.runners.base",
}

__all__ = ["LocalRunner", "Runner", "RunnerEvents"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'modeltune.runners' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
