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
        site = _store_function(sys._getframe(2))
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


def _store_function(frame: Any) -> str:
    """The name of the store function that opened a transaction: the first caller outside the store's
    connection module (``Store.write_at_once`` opens its transaction with ``Store.autocommit``)."""
    while frame.f_back is not None and frame.f_code.co_filename.endswith(("store/connection.py", "contextlib.py")):
        frame = frame.f_back
    return str(frame.f_code.co_name)


def install() -> None:
    """Time every modeltune store transaction of this process, and count its round trips to PostgreSQL."""
    from modeltune.store.connection import Store

    Store.read = timed_context(Store.read)  # type: ignore[method-assign]
    Store.write = timed_context(Store.write)  # type: ignore[method-assign]
    Store.autocommit = timed_context(Store.autocommit)  # type: ignore[method-assign]
    count_round_trips()


def count_round_trips() -> None:
    """Count this process's exchanges with a PostgreSQL server that waited for its answer: a figure that,
    unlike time, does not depend on what else the machine is doing. psycopg runs each exchange as a
    generator that yields while it waits on the socket and is resumed with what the socket is ready for;
    an exchange counts once if the server's answer woke it. (A rollback with no transaction open sends
    nothing; statements sent together in a pipeline are answered together, at its end.)"""
    import psycopg

    wait = psycopg.Connection.wait

    def counted(self: Any, exchange: Any, *args: Any, **kwargs: Any) -> Any:
        return wait(self, _counting(exchange), *args, **kwargs)

    psycopg.Connection.wait = counted  # type: ignore[method-assign]


def _counting(exchange: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """``exchange``, counted as a round trip when an answer from the server resumes it."""
    answered = False
    try:
        state = next(exchange)
        while True:
            ready = yield state
            if not answered and ready and ready & 1:  # Ready.R: the server's answer arrived
                TOTALS["round_trips"] += 1
                answered = True
            state = exchange.send(ready)
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
