"""Metric values from log lines, by the metric definitions' regexes (as SageMaker does)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from modeltune.core import MetricValue, utcnow
from modeltune.spec import MetricDefinition


class LogMetricParser:
    """Applies every metric regex to every line of one training job's log.

    Each match that reads as a number is one value (NaN and infinities included;
    what to do with those is the caller's decision). Its step is the ``step`` named
    group when the regex has one, else a per-metric counter starting at 1, so that
    repeated lines (one per epoch, typically) form a learning curve.

    Args:
        definitions: the metric definitions; those without a regex are skipped.
        counts: values counted per metric so far (to continue a log read earlier).
    """

    def __init__(self, definitions: Sequence[MetricDefinition], counts: Mapping[str, int] | None = None):
        self._patterns = [(d.name, re.compile(d.regex)) for d in definitions if d.regex is not None]
        self.counts: dict[str, int] = dict(counts or {})

    def feed(self, line: str) -> list[MetricValue]:
        """The metric values found in one log line."""
        found: list[MetricValue] = []
        for name, pattern in self._patterns:
            for match in pattern.finditer(line):
                value = number(_value_group(match))
                if value is None:
                    continue
                self.counts[name] = self.counts.get(name, 0) + 1
                step = number(match.group("step")) if "step" in pattern.groupindex else None
                found.append(MetricValue(name, value, self.counts[name] if step is None else step, utcnow()))
        return found


def _value_group(match: re.Match[str]) -> str | None:
    step_index = match.re.groupindex.get("step")
    for index in range(1, match.re.groups + 1):
        if index != step_index:
            return match.group(index)
    return None


def number(text: object) -> float | None:
    """``text`` as a float (NaN and infinities included), or None when it is not a number."""
    if text is None or isinstance(text, bool):
        return None
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
