"""Runners: where a tuning job's training jobs run and who records what they report.

The controller decides (what to launch, what to stop, when the tuning job ends); a runner
carries it out. ``LocalRunner`` runs training jobs as local processes and records their
metric values and outcomes itself; workers on other machines use it too. ``WorkerPoolRunner``
leaves the running to ``modeltune worker`` processes and follows their records in the store.
"""

from modeltune.runners.base import Runner, RunnerEvents
from modeltune.runners.local import LocalRunner

__all__ = ["LocalRunner", "Runner", "RunnerEvents"]
