"""Results files: append-only JSON lines, so an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RUNS_FILE = "runs.jsonl"
TIMING_FILE = "timing.jsonl"
ENV_FILE = "environment.json"


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record in a JSON-lines file (none if it does not exist; a torn last line is skipped)."""
    if not path.exists():
        return
    with path.open() as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record and flush it to disk."""
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


def done_keys(path: Path, fields: tuple[str, ...]) -> set[tuple[Any, ...]]:
    """Keys (values of ``fields``) of the records already in ``path``."""
    return {tuple(r.get(f) for f in fields) for r in read_records(path)}
