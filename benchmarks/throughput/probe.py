"""Time spent in the store, measured inside a process by wrapping its store transactions.

``install()`` wraps ``Store.read`` and ``Store.write`` (modeltune) so every transaction's wall time is
added up; ``dump(path)`` writes the totals as JSON. The worker and Optuna probes run their process's
real entry point with this installed.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TOTALS = {"seconds": 0.0, "transactions": 0}
_DEPTH = [0]


def timed(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its duration added to the totals (only outermost calls: methods calling each
    other are not counted twice)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _DEPTH[0] += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                TOTALS["seconds"] += time.perf_counter() - started
                TOTALS["transactions"] += 1

    return wrapper


def timed_context(factory: Callable[..., Any]) -> Callable[..., Any]:
    """A context-manager factory whose whole ``with`` block is timed."""

    @contextmanager
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            with factory(*args, **kwargs) as value:
                yield value
        finally:
            TOTALS["seconds"] += time.perf_counter() - started
            TOTALS["transactions"] += 1

    return wrapper


def install() -> None:
    """Time every modeltune store transaction of this process."""
    from modeltune.store.connection import Store

    Store.read = timed_context(Store.read)  # type: ignore[method-assign]
    Store.write = timed_context(Store.write)  # type: ignore[method-assign]


def dump_at_exit() -> None:
    """Write the totals to ``$THROUGHPUT_PROBE_OUT`` when the process ends."""
    out = os.environ.get("THROUGHPUT_PROBE_OUT")
    if out:
        atexit.register(lambda: Path(out).write_text(json.dumps(TOTALS)))
