"""Metric values written to files by training code: ``modeltune.report`` and cloudml-hypertune.

Both readers continue from a position that can be stored (``position``), so a reader
rebuilt after a controller restart reads each value exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from modeltune.core import MetricValue
from modeltune.metrics.regex import number

# Keys of a cloudml-hypertune line that are not metric tags.
_HYPERTUNE_RESERVED = {"timestamp", "trial", "global_step", "checkpoint_path"}


def _as_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


class ReportFileReader:
    """Reads the JSON lines ``modeltune.report`` appends, picking up where it left off.

    Args:
        path: the file.
        offset: bytes already read.
        counts: values read per metric so far (they number values reported without a step).
    """

    def __init__(self, path: Path, offset: int = 0, counts: Mapping[str, int] | None = None):
        self.path = path
        self.offset = offset
        self.counts: dict[str, int] = dict(counts or {})

    def read_new(self) -> list[MetricValue]:
        """Values appended since the last call (a partly written last line waits for the next call)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except (FileNotFoundError, IsADirectoryError):
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        values = []
        for line in complete.decode("utf-8", "replace").splitlines():
            try:
                item = json.loads(line)
                name, value = str(item["name"]), number(item["value"])
                step = item.get("step")
                timestamp = _as_utc(float(item.get("timestamp") or 0))
            except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
                continue
            if value is None:
                continue
            self.counts[name] = self.counts.get(name, 0) + 1
            values.append(MetricValue(name, value, self.counts[name] if step is None else float(step), timestamp))
        return values


class HypertuneFileReader:
    """Reads the cloudml-hypertune metric file, which the helper rewrites with its last 100 reports.

    Reports carry increasing timestamps, so the reader keeps the timestamp of the last
    one read and takes only later ones.

    Args:
        path: the file.
        last_timestamp: the timestamp of the newest report already read.
    """

    def __init__(self, path: Path, last_timestamp: float = 0.0):
        self.path = path
        self.last_timestamp = last_timestamp

    def read_new(self) -> list[MetricValue]:
        """Reports newer than the last one read."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except (FileNotFoundError, IsADirectoryError):
            return []
        values = []
        newest = self.last_timestamp
        for line in lines:
            try:
                item = json.loads(line)
                timestamp = float(item["timestamp"])
                step = float(item.get("global_step") or 0)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if timestamp <= self.last_timestamp:
                continue
            newest = max(newest, timestamp)
            for tag, raw in item.items():
                value = number(raw) if tag not in _HYPERTUNE_RESERVED else None
                if value is not None:
                    values.append(MetricValue(tag, value, step, _as_utc(timestamp)))
        self.last_timestamp = newest
        return values
