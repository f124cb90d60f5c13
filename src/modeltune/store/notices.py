"""Notices between the processes of a tuning job on PostgreSQL (``LISTEN``/``NOTIFY``), so none of them has to
ask the store many times a second whether something happened.

The controller sends a notice on ``WORK_CHANNEL`` with every training job it adds for workers; a worker with a
free slot looks for work when one has come. Workers send one on ``NEWS_CHANNEL`` with every batch of what
their training jobs did that ends one; a controller following training jobs on workers looks when one has
come, and otherwise a few times a second. Without notices (SQLite, MySQL/MariaDB, or a listening connection
that failed) they look on a timer instead. Many workers and controllers can then share one database.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from modeltune.store.connection import Store

log = logging.getLogger(__name__)
# The channel of the notices that a training job waits for a worker (sent by the statement that adds it).
WORK_CHANNEL = "modeltune_work"
# The channel of the notices that workers recorded the end of a training job.
NEWS_CHANNEL = "modeltune_news"
# Without a notice a worker still looks this often: a notice can be missed (while the connection was
# being made again) and a resumed tuning job's waiting training jobs come with none.
_LOOK_SECONDS = 1.0
# Without notices, the first wait after finding nothing, doubled each time up to _LOOK_SECONDS.
_FIRST_WAIT_SECONDS = 0.05
# After listening failed, the next try is this long after the last.
_LISTEN_AGAIN_SECONDS = 1.0


class Listener:
    """Listens on one channel, on a PostgreSQL connection of its own; on other stores it hears nothing.

    Args:
        store: the store whose server sends the notices.
        channel: the channel listened on.
        about: what the notices announce, for the warning when listening fails (e.g. "new training jobs").
    """

    def __init__(self, store: Store, channel: str, about: str):
        self._store = store
        self._channel = channel
        self._about = about
        self._connection: Any = None
        self._warned = False  # about listening that failed, since it last worked
        self._failed_at = float("-inf")
        self.listen()

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def heard(self, timeout: float = 0.0) -> bool:
        """True when a notice came since the last call (waiting up to ``timeout`` seconds for the first), or the
        connection was lost (so the caller looks instead). Every notice so far is taken: one look for all."""
        if self._connection is None:
            return False
        try:
            if list(self._connection.notifies(timeout=timeout, stop_after=1)):
                list(self._connection.notifies(timeout=0))
                return True
            return False
        except Exception as exc:  # noqa: BLE001 - a lost connection: look on a timer until it is back
            self._lost(f"stopped listening for {self._about} ({exc})")
            return True

    def listen(self) -> None:
        """Listen on PostgreSQL, unless already listening or the last try failed less than a second ago."""
        if self._store.backend != "postgresql" or self._connection is not None:
            return
        if time.monotonic() - self._failed_at < _LISTEN_AGAIN_SECONDS:
            return
        try:
            self._connection = self._store.dedicated_connection()
            self._connection.execute(f"LISTEN {self._channel}")
            self._warned = False
        except Exception as exc:  # noqa: BLE001 - looking on a timer instead still works
            self._failed_at = time.monotonic()
            self._lost(f"cannot listen for {self._about} ({exc})")

    def close(self) -> None:
        """Stop listening."""
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a lost connection has nothing left to close
                self._connection.close()
            self._connection = None

    def _lost(self, why: str) -> None:
        if not self._warned:
            log.warning("%s; looking on a timer until listening works again", why)
            self._warned = True
        self.close()


class WorkNotices:
    """Tells a worker when to look for training jobs: ``due()`` before looking, ``looked()`` after."""

    def __init__(self, store: Store):
        self._listener = Listener(store, WORK_CHANNEL, "new training jobs")
        self._looked_at = float("-inf")
        self._wait = _FIRST_WAIT_SECONDS

    def due(self) -> bool:
        """True when a notice came since the last look, or the wait since then is over."""
        if self._listener.heard():
            return True
        wait = _LOOK_SECONDS if self._listener.listening else self._wait
        return time.monotonic() - self._looked_at >= wait

    def looked(self, found: bool) -> None:
        """Record a look that found training jobs to claim, or none."""
        self._looked_at = time.monotonic()
        self._wait = _FIRST_WAIT_SECONDS if found else min(2 * self._wait, _LOOK_SECONDS)
        self._listener.listen()  # again, if the connection was lost (e.g. the server restarted)

    def close(self) -> None:
        """Stop listening."""
        self._listener.close()
