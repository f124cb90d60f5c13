"""Metric values from log lines, by the metric definitions' regexes (as SageMaker does)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from modeltune.core import MetricValue, utcnow
from modeltune.spec import MetricDefinition


class LogMetricParser:
    """Applies every metric regex to every line of one training job's log.

    Each match is one value. Its step is the ``step`` named group when the regex
    has one, else a per-metric counter starting at 1, so that repeated lines (one
    per epoch, typically) form a learning curve.
    """

    def __init__(self, definitions: Sequence[MetricDefinition]):
        self._patterns = [(d.name, re.compile(d.regex)) for d in definitions]
        self._counts: dict[str, int] = {}

    def feed(self, line: str) -> list[MetricValue]:
        """The metric values found in one log line."""
        found: list[MetricValue] = []
        for name, pattern in self._patterns:
            for match in pattern.finditer(line):
                value = _number(_value_group(match))
                if value is None:
                    continue
                self._counts[name] = self._counts.get(name, 0) + 1
                step = _number(match.group("step")) if "step" in pattern.groupindex else None
                found.append(MetricValue(name, value, self._counts[name] if step is None else step, utcnow()))
        return found


def _value_group(match: re.Match[str]) -> str | None:
    step_index = match.re.groupindex.get("step")
    for index in range(1, match.re.groups + 1):
        if index != step_index:
            return match.group(index)
    return None


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None
