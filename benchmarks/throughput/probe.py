"""Time spent in the store, measured inside a process by wrapping its store transactions.

``install()`` wraps ``Store.read``, ``Store.write`` and ``Store.autocommit`` (modeltune) so every
transaction's wall time is added up; ``dump(path)`` writes the totals as JSON. The worker and Optuna
probes run their process's real entry point with this installed.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TOTALS = {"seconds": 0.0, "transactions": 0, "round_trips": 0, "cpu_seconds": 0.0}
# [seconds, transactions, round trips, CPU seconds of the calling thread] by the store function that
# opened them (the caller of ``Store.read``/``write``).
SITES: dict[str, list[float]] = {}
_DEPTH = [0]


def timed(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its duration added to the totals (only outermost calls: methods calling each
    other are not counted twice)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _DEPTH[0] += 1
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                TOTALS["seconds"] += time.perf_counter() - started
                TOTALS["transactions"] += 1
                TOTALS["cpu_seconds"] += time.thread_time() - cpu

    return wrapper


def timed_context(factory: Callable[..., Any]) -> Callable[..., Any]:
    """A context-manager factory whose whole ``with`` block is timed."""

    @contextmanager
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        site = sys._getframe(2).f_code.co_name
        started, cpu, trips = time.perf_counter(), time.thread_time(), TOTALS["round_trips"]
        try:
            with factory(*args, **kwargs) as value:
                yield value
        finally:
            seconds = time.perf_counter() - started
            TOTALS["seconds"] += seconds
            TOTALS["transactions"] += 1
            TOTALS["cpu_seconds"] += time.thread_time() - cpu
            totals = SITES.setdefault(site, [0.0, 0, 0, 0.0])
            totals[0] += seconds
            totals[1] += 1
            totals[2] += TOTALS["round_trips"] - trips
            totals[3] += time.thread_time() - cpu

    return wrapper


def install() -> None:
    """Time every modeltune store transaction of this process, and count its round trips to PostgreSQL."""
    from modeltune.store.connection import Store

    Store.read = timed_context(Store.read)  # type: ignore[method-assign]
    Store.write = timed_context(Store.write)  # type: ignore[method-assign]
    Store.autocommit = timed_context(Store.autocommit)  # type: ignore[method-assign]
    count_round_trips()


def count_round_trips() -> None:
    """Count this process's exchanges with a PostgreSQL server (each waits for the server's answer): a
    figure that, unlike time, does not depend on what else the machine is doing. psycopg runs each
    exchange as a generator that yields while it waits on the socket; one that never yields (e.g. a
    rollback with no transaction open) sent nothing."""
    import psycopg

    wait = psycopg.Connection.wait

    def counted(self: Any, exchange: Any, *args: Any, **kwargs: Any) -> Any:
        return wait(self, _counting(exchange), *args, **kwargs)

    psycopg.Connection.wait = counted  # type: ignore[method-assign]


def _counting(exchange: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """``exchange``, counted as a round trip if it waits on the socket at all."""
    try:
        state = next(exchange)
    except StopIteration as done:
        return done.value
    TOTALS["round_trips"] += 1
    while True:
        try:
            state = exchange.send((yield state))
        except StopIteration as done:
            return done.value


def dump_at_exit() -> None:
    """Write the totals to ``$THROUGHPUT_PROBE_OUT`` when the process ends."""
    out = os.environ.get("THROUGHPUT_PROBE_OUT")
    if out:
        atexit.register(lambda: Path(out).write_text(json.dumps({**TOTALS, "sites": SITES, **cpu_seconds()})))


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this process and by its ended children (their children included)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_self": own.ru_utime + own.ru_stime, "cpu_children": children.ru_utime + children.ru_stime}
