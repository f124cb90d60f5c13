"""Where training jobs run: the executor interface and the local-process executor."""

from modeltune.executors.base import Executor, ExecutorEvent, JobFiles, LaunchRequest
from modeltune.executors.local import LocalExecutor

__all__ = ["Executor", "ExecutorEvent", "JobFiles", "LaunchRequest", "LocalExecutor"]
