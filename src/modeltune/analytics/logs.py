"""A training job's log, wherever it ran: its file on this machine, or the text its worker shipped."""

from __future__ import annotations

from pathlib import Path

from modeltune.store import Store, TrainingJob, work


def read_log(store: Store, record: TrainingJob, offset: int = 0) -> tuple[str, int]:
    """The log text from byte ``offset`` on, and the offset to continue from.

    A training job that ran on this machine has its log file here; one that a worker ran
    elsewhere has the text the worker shipped to the store.
    """
    path = Path(record.log_path)
    if path.is_file():
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
        return chunk.decode("utf-8", "replace"), offset + len(chunk)
    pieces = work.read_log(store, record.id, offset - 1)
    text = "".join(data for _, data in pieces)
    return text, (pieces[-1][0] + len(pieces[-1][1].encode()) if pieces else offset)
