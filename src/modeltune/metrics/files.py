"""Metric values written to files by training code: ``modeltune.report`` and cloudml-hypertune."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from modeltune.core import MetricValue

# Keys of a cloudml-hypertune line that are not metric tags.
_HYPERTUNE_RESERVED = {"timestamp", "trial", "global_step", "checkpoint_path"}


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
        self._seen: set[str] = set()

    def read_new(self) -> list[MetricValue]:
        """Reports not read before (the file holds at most the last 100, so remembering those is enough)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, IsADirectoryError):
            return []
        values = []
        for line in lines:
            if line in self._seen:
                continue
            try:
                item = json.loads(line)
                timestamp = float(item["timestamp"])
            except (ValueError, KeyError, TypeError):
                continue
            step = float(item.get("global_step") or 0)
            for tag, raw in item.items():
                value = _finite(raw) if tag not in _HYPERTUNE_RESERVED else None
                if value is not None:
                    values.append(MetricValue(tag, value, step, _as_utc(timestamp)))
        self._seen = set(lines)
        return values


def _finite(raw: object) -> float | None:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
