"""Model artifacts kept in the background, so a runner goes on starting and following training jobs meanwhile."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from modeltune.errors import ModeltuneError

# Threads that pack and upload at once: packing is CPU-bound (7.8 s for 100 MB, benchmarks/results/ray),
# uploading waits on the network (6.6 s); two overlap one of each without crowding out the training jobs.
UPLOAD_THREADS = 2
# How long a controller or worker that ends waits for the uploads still running (a 100 MB model took 14 s to
# pack and upload to a loopback S3 server); those left are recorded as failed uploads.
UPLOAD_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class Kept:
    """How keeping one training job's model artifact ended: its URI, or why it failed."""

    name: str
    uri: str | None
    error: str | None


class Uploads:
    """Runs keep-model work (pack, upload) on a few daemon threads; the runner's thread collects the results.

    ``start`` and ``finished`` and ``abandon`` are called from the runner's one thread. Work that is
    abandoned (the process is about to end) is never reported, and work not begun by then never runs;
    the threads are daemons, so a process that exits does not wait for an upload it recorded as failed.
    """

    def __init__(self, threads: int = UPLOAD_THREADS):
        self._threads = threads
        self._started = 0
        self._todo: queue.SimpleQueue[tuple[str, Callable[[], str]]] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Kept] = queue.SimpleQueue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def start(self, name: str, keep: Callable[[], str]) -> None:
        """Run ``keep`` (which returns the artifact's URI or raises) for the training job ``name``."""
        with self._lock:
            self._pending.add(name)
        self._todo.put((name, keep))
        if self._started < self._threads:
            self._started += 1
            threading.Thread(target=self._work, name=f"modeltune-upload-{self._started}", daemon=True).start()

    def pending(self) -> list[str]:
        """Training jobs whose model artifact is still being kept."""
        with self._lock:
            return sorted(self._pending)

    def finished(self) -> list[Kept]:
        """What ended since the last call."""
        ended: list[Kept] = []
        while True:
            try:
                kept = self._done.get_nowait()
            except queue.Empty:
                return ended
            with self._lock:
                if kept.name not in self._pending:
                    continue  # abandoned meanwhile
                self._pending.discard(kept.name)
            ended.append(kept)

    def abandon(self) -> list[str]:
        """Give up on the work still pending (it is never reported); the names of those training jobs."""
        with self._lock:
            names, self._pending = sorted(self._pending), set()
        return names

    def _work(self) -> None:
        while True:
            name, keep = self._todo.get()
            with self._lock:
                if name not in self._pending:
                    continue
            try:
                kept = Kept(name, keep(), None)
            except ModeltuneError as exc:
                kept = Kept(name, None, str(exc))
            except Exception as exc:  # noqa: BLE001 - whatever breaks an upload is its failure reason
                kept = Kept(name, None, f"{type(exc).__name__}: {exc}")
            self._done.put(kept)
