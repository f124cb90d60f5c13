"""The load generator: threads, each with one keep-alive ``http.client`` connection, bounded in count and time."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoadResult:
    """Latencies (ms) of the requests answered 200, the failures, and the wall time of the run."""

    latencies_ms: np.ndarray
    failures: int
    seconds: float

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def run_load(
    port: int, bodies: list[bytes], headers: dict[str, str], requests: int, concurrency: int, max_seconds: float
) -> LoadResult:
    """POST ``requests`` bodies (cycling through ``bodies``) to ``127.0.0.1:port/invocations``.

    ``concurrency`` connections, opened 10 ms apart before the first request, send back to back; the
    run stops after ``requests`` requests or ``max_seconds`` seconds, whichever comes first.
    """
    numbers = itertools.count()
    deadline = time.perf_counter() + max_seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency

    # Connected up front, one at a time: asyncio accepts every pending connection in one go, so a burst
    # of first requests would pile the keep-alive connections onto whichever worker woke first.
    connections = []
    for _ in range(concurrency):
        connections.append(http.client.HTTPConnection("127.0.0.1", port, timeout=60))
        connections[-1].connect()
        time.sleep(0.01)

    def client(slot: int) -> None:
        connection = connections[slot]
        try:
            while (number := next(numbers)) < requests and time.perf_counter() < deadline:
                started = time.perf_counter()
                connection.request("POST", "/invocations", bodies[number % len(bodies)], headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    latencies[slot].append((time.perf_counter() - started) * 1000)
                else:
                    failures[slot] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return LoadResult(np.array([ms for slot in latencies for ms in slot]), sum(failures), seconds)
