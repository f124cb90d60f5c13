"""Metric values written to files by training code: ``modeltune.report`` and cloudml-hypertune."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from modeltune.store import MetricValue

# Keys of a cloudml-hypertune line that are not metric tags.
_HYPERTUNE_RESERVED = {"timestamp", "trial", "global_step"}


def _as_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


class ReportFileReader:
    """Reads the JSON lines ``modeltune.report`` appends, picking up where it left off."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0
        self._counts: dict[str, int] = {}

    def read_new(self) -> list[MetricValue]:
        """Values appended since the last call (a partly written last line waits for the next call)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        values = []
        for line in complete.decode("utf-8", "replace").splitlines():
            try:
                item = json.loads(line)
                name, value = str(item["name"]), float(item["value"])
            except (ValueError, KeyError, TypeError):
                continue
            self._counts[name] = self._counts.get(name, 0) + 1
            step = item.get("step")
            values.append(
                MetricValue(
                    name,
                    value,
                    self._counts[name] if step is None else float(step),
                    _as_utc(float(item.get("timestamp") or 0)),
                )
            )
        return values


class HypertuneFileReader:
    """Reads the cloudml-hypertune metric file, which the helper rewrites with its last 100 reports."""

    def __init__(self, path: Path):
        self.path = path
        self._last_timestamp = float("-inf")

    def read_new(self) -> list[MetricValue]:
        """Reports newer than the last one read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return []
        values = []
        newest = self._last_timestamp
        for line in text.splitlines():
            try:
                item = json.loads(line)
                timestamp = float(item["timestamp"])
            except (ValueError, KeyError, TypeError):
                continue
            if timestamp <= self._last_timestamp:
                continue
            newest = max(newest, timestamp)
            step = float(item.get("global_step") or 0)
            for tag, raw in item.items():
                if tag in _HYPERTUNE_RESERVED:
                    continue
                try:
                    values.append(MetricValue(tag, float(raw), step, _as_utc(timestamp)))
                except (TypeError, ValueError):
                    continue
        self._last_timestamp = newest
        return values
