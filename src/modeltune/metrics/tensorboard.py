"""Scalars from TensorBoard event files, read with the ``tensorboard`` package's event reader.

Training code writes summaries under a folder (``training.tensorboard_dir``, relative to the
training job's folder, e.g. ``output/tensorboard`` = ``$SM_OUTPUT_DIR/tensorboard``). Each scalar
becomes a metric value named by its tag, or ``sub/tag`` for event files in a subfolder (Keras
writes ``train/`` and ``validation/``), with the event's step and wall time. Both the TF1 form
(``simple_value``, as in the Cloud ML article) and the TF2 / ``tensorboard.summary.Writer`` form
(a scalar tensor) are read. Needs the ``tensorboard`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modeltune.core import MetricValue
from modeltune.extras import require

_EVENT_FILES = "*tfevents*"


class TensorBoardReader:
    """Reads new scalar events under ``folder`` on each call, continuing where it left off.

    Args:
        folder: where the event files are (searched recursively).
        counts: events already read per event file (by path relative to ``folder``), so a reader
            rebuilt after a controller restart reads each value once.
    """

    def __init__(self, folder: Path, counts: Mapping[str, int] | None = None):
        self.folder = folder
        self.counts: dict[str, int] = dict(counts or {})
        self._events: dict[str, Iterator[Any]] = {}
        self._loaders: dict[str, Any] = {}

    def read_new(self) -> list[MetricValue]:
        """Scalar values written since the last call."""
        if not self.folder.is_dir():
            return []
        values: list[MetricValue] = []
        for path in sorted(self.folder.rglob(_EVENT_FILES)):
            if path.is_file():
                values += self._read_file(path)
        return values

    def _read_file(self, path: Path) -> list[MetricValue]:
        key = path.relative_to(self.folder).as_posix()
        prefix = path.parent.relative_to(self.folder).as_posix()
        loader = self._loaders.get(key)
        skip = 0
        if loader is None:
            module = require(
                "tensorboard.backend.event_processing.event_file_loader",
                "tensorboard",
                "reading TensorBoard event files needs",
            )
            loader = self._loaders[key] = module.EventFileLoader(str(path))
            skip = self.counts.get(key, 0)  # read before a restart
        values = []
        for event in loader.Load():
            if skip:
                skip -= 1
                continue
            self.counts[key] = self.counts.get(key, 0) + 1
            for value in event.summary.value:
                number = _scalar(value)
                if number is not None:
                    tag = value.tag if prefix == "." else f"{prefix}/{value.tag}"
                    moment = datetime.fromtimestamp(event.wall_time, UTC).replace(tzinfo=None)
                    values.append(MetricValue(tag, number, float(event.step), moment))
        return values


def _scalar(value: Any) -> float | None:
    """The number in a summary value that holds one (scalars plugin or a 0-d tensor), else None."""
    if value.HasField("simple_value"):
        return float(value.simple_value)
    if not value.HasField("tensor") or value.metadata.plugin_data.plugin_name not in ("scalars", ""):
        return None
    tensor_util = require("tensorboard.util.tensor_util", "tensorboard", "reading TensorBoard event files needs")
    array = tensor_util.make_ndarray(value.tensor)
    if array.size != 1 or array.dtype.kind not in "fiub":
        return None
    return float(array.reshape(()))
