"""One running training job as its controller follows it: metric values in, final status out.

Everything a ``RunningJob`` knows is in the training job's record (how far its files were
read, a stop that was asked for) and in its files, so a controller that restarts builds
the same object and continues exactly where the previous one stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeltune.core import MetricValue, TrainingJobStatus
from modeltune.executors.contract import failure_file_reason
from modeltune.metrics.files import HypertuneFileReader, ReportFileReader
from modeltune.metrics.regex import LogMetricParser
from modeltune.metrics.report import METRICS_FILE
from modeltune.metrics.tensorboard import TensorBoardReader
from modeltune.spec import TuningJobSpec
from modeltune.store import TrainingJob

# Log lines given in the failure reason of a training job that exits non-zero.
TAIL_LINES = 10
_TAIL_BYTES = 65536


@dataclass(frozen=True)
class Outcome:
    """How a training job ended: status, final objective, the reason shown to the user, and whether
    the failure was not the training code's fault (so a retry policy may run it again)."""

    status: TrainingJobStatus
    final_objective: float | None
    reason: str | None
    retryable: bool = False


class RunningJob:
    """Collects a running training job's metric values and decides how it ended.

    The final objective value is the last value emitted for the objective metric (by
    log regex, ``modeltune.report`` or cloudml-hypertune), as in SageMaker. Values that
    are not finite numbers are left out of the stored curves; when the last objective
    value is one of them, the training job fails.
    """

    def __init__(self, record: TrainingJob, spec: TuningJobSpec):
        self.record = record
        self.spec = spec
        cursor: dict[str, Any] = record.cursor or {}
        folder = Path(record.output_dir)
        self.log_offset: int = cursor.get("log", 0)
        self._parser = LogMetricParser(spec.training.metric_definitions, cursor.get("log_counts"))
        self._report = ReportFileReader(folder / METRICS_FILE, cursor.get("report", 0), cursor.get("report_counts"))
        self._hypertune = HypertuneFileReader(folder / "hypertune" / "output.metrics", cursor.get("hypertune", 0.0))
        tensorboard = spec.training.tensorboard_dir
        self._tensorboard = TensorBoardReader(folder / tensorboard, cursor.get("tensorboard")) if tensorboard else None
        self.last_objective: float | None = cursor.get("objective")
        # The last objective value when it was not finite: [step, value as text].
        self._nonfinite: list[Any] | None = cursor.get("nonfinite")
        # Non-finite values left out, per metric: [how many, first step].
        self._ignored: dict[str, list[float]] = cursor.get("ignored", {})
        self.stop_reason = record.stop_reason
        self.stop_status = TrainingJobStatus(record.stop_status or TrainingJobStatus.STOPPED)

    @property
    def name(self) -> str:
        """The training job's name."""
        return self.record.name

    def feed_line(self, line: str, offset: int) -> list[MetricValue]:
        """Metric values in one log line; ``offset`` is where the log has been read to after it."""
        self.log_offset = offset
        return self._track(self._parser.feed(line))

    def read_files(self) -> list[MetricValue]:
        """Metric values the training code wrote to its metric files since the last call."""
        events = self._tensorboard.read_new() if self._tensorboard else []
        return self._track(self._report.read_new() + self._hypertune.read_new() + events)

    @property
    def cursor(self) -> dict[str, Any]:
        """How far the log and files have been read, and what was seen there (JSON)."""
        return {
            "log": self.log_offset,
            "log_counts": self._parser.counts,
            "report": self._report.offset,
            "report_counts": self._report.counts,
            "hypertune": self._hypertune.last_timestamp,
            "tensorboard": self._tensorboard.counts if self._tensorboard else {},
            "objective": self.last_objective,
            "nonfinite": self._nonfinite,
            "ignored": self._ignored,
        }

    def _track(self, values: list[MetricValue]) -> list[MetricValue]:
        """The finite values, noting the objective's last value and any value left out."""
        kept = []
        for value in values:
            finite = math.isfinite(value.value)
            if value.name == self.spec.objective.metric:
                self.last_objective = value.value if finite else self.last_objective
                self._nonfinite = None if finite else [value.step, str(value.value)]
            if finite:
                kept.append(value)
            else:
                count, first = self._ignored.get(value.name, [0, value.step])
                self._ignored[value.name] = [count + 1, first]
        return kept

    def request_stop(self, reason: str, status: TrainingJobStatus = TrainingJobStatus.STOPPED) -> None:
        """Remember why it is being stopped and the status it ends with (the first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason, self.stop_status = reason, status

    def outcome(self, exit_code: int | None, error: str | None) -> Outcome:
        """The final status once the training job has ended (``error``: it could not start or be followed)."""
        if self.stop_reason:
            # A job that used its whole resource and exited cleanly needs no explanation.
            finished_cleanly = self.stop_status == TrainingJobStatus.COMPLETED and exit_code == 0
            return Outcome(self.stop_status, self._final(), None if finished_cleanly else self.stop_reason)
        if error:
            return Outcome(TrainingJobStatus.FAILED, None, error, retryable=not error.startswith("could not start"))
        if exit_code != 0:
            detail = failure_file_reason(Path(self.record.output_dir)) or self._tail_text()
            killed = exit_code is not None and exit_code < 0
            how = f"killed by signal {-exit_code}" if killed and exit_code is not None else f"exit code {exit_code}"
            return Outcome(TrainingJobStatus.FAILED, self._final(), f"{how}: {detail}" if detail else how, killed)
        if self._nonfinite is not None:
            step, text = self._nonfinite
            return Outcome(TrainingJobStatus.FAILED, None, f"objective value is {text} at step {step:g}")
        if self.last_objective is None:
            return Outcome(TrainingJobStatus.FAILED, None, self._missing_objective_reason())
        return Outcome(TrainingJobStatus.COMPLETED, self.last_objective, self._ignored_note())

    def _final(self) -> float | None:
        return None if self._nonfinite is not None else self.last_objective

    def _ignored_note(self) -> str | None:
        if not self._ignored:
            return None
        parts = [f"{name} ({count:g} from step {first:g})" for name, (count, first) in sorted(self._ignored.items())]
        return "left out values that are not finite numbers: " + ", ".join(parts)

    def _tail_text(self) -> str:
        """The last log lines, joined, as the reason of a failure."""
        try:
            with open(self.record.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, 2) - _TAIL_BYTES))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()][-TAIL_LINES:]
        return " | ".join(lines)[-2000:]

    def _missing_objective_reason(self) -> str:
        metric = self.spec.objective.metric
        regex = next((d.regex for d in self.spec.training.metric_definitions if d.name == metric), None)
        if regex is None:
            sources = "modeltune.report, cloudml-hypertune" + (
                f" or a TensorBoard event file under {self.spec.training.tensorboard_dir}"
                if self.spec.training.tensorboard_dir
                else ""
            )
            return f"the objective metric {metric!r} was never reported (by {sources})"
        return (
            f"the objective metric {metric!r} was never emitted: its regex {regex!r} matched no log line "
            "and modeltune.report never reported it"
        )
