"""Where training jobs run: the executor interface and the local-process executor."""

from modeltune.executors.base import Executor, ExecutorEvent, LaunchRequest
from modeltune.executors.local import LocalExecutor

__all__ = ["Executor", "ExecutorEvent", "LaunchRequest", "LocalExecutor"]
