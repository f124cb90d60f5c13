"""A shared on-disk cache of expensive evaluations, safe for several worker processes.

Evaluations of the scikit-learn problems are deterministic, so a configuration seen by
any optimizer, seed or earlier (interrupted) run is looked up instead of retrained.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

CACHE_ENV = "MODELTUNE_BENCH_CACHE"
DEFAULT_DIR = Path("benchmarks/results/optimizers/cache")
# Continuous values on log ranges are rounded to this many steps per decade.
STEPS_PER_DECADE = 50

_memory: dict[tuple[str, str], float] = {}
_conn: sqlite3.Connection | None = None


def cache_dir() -> Path:
    """Folder of cached evaluations and precomputed tables (``$MODELTUNE_BENCH_CACHE``)."""
    path = Path(os.environ.get(CACHE_ENV, DEFAULT_DIR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def round_log(x: float) -> float:
    """``x`` rounded to the nearest of ``STEPS_PER_DECADE`` log-spaced points per decade."""
    return float(f"{10 ** (round(math.log10(x) * STEPS_PER_DECADE) / STEPS_PER_DECADE):.6g}")


def _connection() -> sqlite3.Connection:
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(cache_dir() / "evals.sqlite", timeout=120)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute(
            "CREATE TABLE IF NOT EXISTS evals (problem TEXT, key TEXT, value REAL, PRIMARY KEY (problem, key))"
        )
        _conn.commit()
    return _conn


def cached(problem: str, config: Mapping[str, Any], compute: Callable[[], float]) -> float:
    """``compute()`` for this problem and configuration, computed at most once across processes."""
    key = (problem, json.dumps(dict(config), sort_keys=True))
    if key in _memory:
        return _memory[key]
    conn = _connection()
    row = conn.execute("SELECT value FROM evals WHERE problem = ? AND key = ?", key).fetchone()
    if row is None:
        value = float(compute())
        conn.execute("INSERT OR REPLACE INTO evals VALUES (?, ?, ?)", (*key, value))
        conn.commit()
    else:
        value = float(row[0])
    _memory[key] = value
    return value
