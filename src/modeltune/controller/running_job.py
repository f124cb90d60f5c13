"""One running training job as the controller follows it: metrics in, final status out."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from modeltune.core import MetricValue, TrainingJobStatus
from modeltune.executors.contract import failure_file_reason
from modeltune.metrics.files import HypertuneFileReader, ReportFileReader
from modeltune.metrics.regex import LogMetricParser
from modeltune.spec import TuningJobSpec
from modeltune.store import TrainingJob

# Log lines kept for the failure reason of a training job that exits non-zero.
TAIL_LINES = 10


@dataclass(frozen=True)
class Outcome:
    """How a training job ended: status, final objective and the reason shown to the user."""

    status: TrainingJobStatus
    final_objective: float | None
    reason: str | None


class RunningJob:
    """Collects a running training job's metric values and decides how it ended.

    The final objective value is the last value emitted for the objective metric
    (by log regex, ``modeltune.report`` or cloudml-hypertune), as in SageMaker.
    """

    def __init__(self, record: TrainingJob, spec: TuningJobSpec):
        self.record = record
        self.spec = spec
        self.started = time.monotonic()
        self.stop_reason: str | None = None
        self.stop_status = TrainingJobStatus.STOPPED
        self.last_objective: float | None = None
        self._parser = LogMetricParser(spec.training.metric_definitions)
        output_dir = Path(record.output_dir)
        self._files: list[ReportFileReader | HypertuneFileReader] = [
            ReportFileReader(output_dir / "metrics.jsonl"),
            HypertuneFileReader(output_dir / "hypertune" / "output.metrics"),
        ]
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)

    def feed_line(self, line: str) -> list[MetricValue]:
        """Metric values in one log line (remembering the line for a failure reason)."""
        self._tail.append(line)
        return self._track(self._parser.feed(line))

    def read_files(self) -> list[MetricValue]:
        """Metric values the training code wrote to its metric files since the last call."""
        return self._track([v for reader in self._files for v in reader.read_new()])

    def _track(self, values: list[MetricValue]) -> list[MetricValue]:
        for value in values:
            if value.name == self.spec.objective.metric:
                self.last_objective = value.value
        return values

    def elapsed(self) -> float:
        """Seconds since the controller launched it."""
        return time.monotonic() - self.started

    def request_stop(self, reason: str, status: TrainingJobStatus = TrainingJobStatus.STOPPED) -> None:
        """Remember why it is being stopped and the status it ends with (the first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason, self.stop_status = reason, status

    def outcome(self, exit_code: int | None, launch_error: str | None) -> Outcome:
        """The final status once the process has exited."""
        if launch_error:
            return Outcome(TrainingJobStatus.FAILED, None, launch_error)
        if self.stop_reason:
            # A job that used its whole resource and exited cleanly needs no explanation.
            finished_cleanly = self.stop_status == TrainingJobStatus.COMPLETED and exit_code == 0
            return Outcome(self.stop_status, self.last_objective, None if finished_cleanly else self.stop_reason)
        if exit_code != 0:
            detail = failure_file_reason(Path(self.record.output_dir)) or self._tail_text()
            how = (
                f"killed by signal {-exit_code}"
                if exit_code is not None and exit_code < 0
                else f"exit code {exit_code}"
            )
            return Outcome(TrainingJobStatus.FAILED, self.last_objective, f"{how}: {detail}" if detail else how)
        if self.last_objective is None:
            return Outcome(TrainingJobStatus.FAILED, None, self._missing_objective_reason())
        return Outcome(TrainingJobStatus.COMPLETED, self.last_objective, None)

    def _tail_text(self) -> str:
        return " | ".join(line.strip() for line in self._tail if line.strip())[-2000:]

    def _missing_objective_reason(self) -> str:
        metric = self.spec.objective.metric
        regex = next(d.regex for d in self.spec.training.metric_definitions if d.name == metric)
        return (
            f"the objective metric {metric!r} was never emitted: its regex {regex!r} matched no log line "
            "and modeltune.report never reported it"
        )
