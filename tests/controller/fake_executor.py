"""An in-process executor for controller tests: training jobs are Python functions, one log line per poll.

Controller logic (budgets, parallelism, stopping, retries, completion, recovery) then runs in
milliseconds. Runs are kept by control folder in a registry shared by every instance, so a
second controller's executor can re-attach to what the first one launched, as after a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeltune.executors import Executor, ExecutorEvent, JobFiles, LaunchRequest


@dataclass
class Script:
    """What a fake training job prints, one line per poll, and how it exits.

    ``None`` in ``lines`` prints nothing that poll (the job is busy). ``on_stop`` is the exit
    code when it is stopped (-15: killed by SIGTERM; 0: it saved a checkpoint and exited).
    """

    lines: list[str | None]
    exit_code: int = 0
    on_stop: int = -15


@dataclass
class _Run:
    files: JobFiles
    hyperparameters: dict[str, Any]
    lines: Iterator[str | None]
    script: Script
    stopped: bool = False
    offset: int = 0


@dataclass
class FakeExecutor(Executor):
    """Runs ``script(hyperparameters)`` for every launched training job."""

    script: Callable[[dict[str, Any]], Script]
    registry: dict[Path, _Run] = field(default_factory=dict)
    concurrent: int = 0
    most_concurrent: int = 0
    launched: list[dict[str, Any]] = field(default_factory=list)
    _following: dict[str, _Run] = field(default_factory=dict)

    def launch(self, request: LaunchRequest) -> int | None:
        hyperparameters = json.loads(request.env["SM_HPS"])
        script = self.script(hyperparameters)
        run = _Run(request.files, hyperparameters, iter(script.lines), script)
        self.registry[request.files.control_dir] = run
        self._following[request.name] = run
        self.launched.append(hyperparameters)
        self.most_concurrent = max(self.most_concurrent, len(self._following))
        return None

    def attach(self, files: JobFiles, offset: int) -> bool:
        run = self.registry.get(files.control_dir)
        if run is None:
            return False
        run.offset = offset
        self._following[files.name] = run
        return True

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        events = []
        for name, run in list(self._following.items()):
            line = None if run.stopped else next(run.lines, StopIteration)
            if line is StopIteration or run.stopped:
                code = run.script.on_stop if run.stopped else run.script.exit_code
                events.append(ExecutorEvent(name, exit_code=code, offset=run.offset))
                del self._following[name]
                del self.registry[run.files.control_dir]
            elif isinstance(line, str):
                with open(run.files.log_path, "a", encoding="utf-8") as log:
                    log.write(line + "\n")
                run.offset += len(line.encode()) + 1
                events.append(ExecutorEvent(name, line=line, offset=run.offset))
        return events

    def stop(self, name: str, grace_seconds: float) -> None:
        if name in self._following:
            self._following[name].stopped = True

    def running(self) -> list[str]:
        return list(self._following)


def curve_script(values: Callable[[dict[str, Any]], list[float]], **options: Any) -> Callable[[dict[str, Any]], Script]:
    """A script printing ``loss: v`` for each value ``values(hyperparameters)`` gives (one per epoch)."""
    return lambda hp: Script([f"loss: {v}" for v in values(hp)], **options)
