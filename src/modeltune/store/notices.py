"""When a worker with a free slot looks for training jobs to claim.

On PostgreSQL the controller sends a notice (``NOTIFY``) with every training job it adds for workers,
and a worker looks when one has come; without notices (SQLite, MySQL/MariaDB, or a listening
connection that failed) it looks less often the longer it finds nothing. Either way an idle worker
no longer asks the store twenty times a second, which matters when many workers share one database.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from modeltune.store.connection import Store

log = logging.getLogger(__name__)
# The channel of the notices; the statement that adds a training job for workers sends it.
WORK_CHANNEL = "modeltune_work"
# Without a notice a worker still looks this often: a notice can be missed (while the connection was
# being made again) and a resumed tuning job's waiting training jobs come with none.
_LOOK_SECONDS = 1.0
# Without notices, the first wait after finding nothing, doubled each time up to _LOOK_SECONDS.
_FIRST_WAIT_SECONDS = 0.05


class WorkNotices:
    """Tells a worker when to look for training jobs: ``due()`` before looking, ``looked()`` after."""

    def __init__(self, store: Store):
        self._store = store
        self._listening: Any = None  # the psycopg connection that LISTENs, on PostgreSQL
        self._warned = False  # about listening that failed, since it last worked
        self._looked_at = float("-inf")
        self._wait = _FIRST_WAIT_SECONDS
        self._listen()

    def due(self) -> bool:
        """True when a notice came since the last look, or the wait since then is over."""
        if self._noticed():
            return True
        return time.monotonic() - self._looked_at >= (_LOOK_SECONDS if self._listening else self._wait)

    def looked(self, found: bool) -> None:
        """Record a look that found training jobs to claim, or none."""
        self._looked_at = time.monotonic()
        self._wait = _FIRST_WAIT_SECONDS if found else min(2 * self._wait, _LOOK_SECONDS)
        self._listen()  # again, if the connection was lost (e.g. the server restarted)

    def close(self) -> None:
        """Stop listening."""
        if self._listening is not None:
            with contextlib.suppress(Exception):  # a lost connection has nothing left to close
                self._listening.close()
            self._listening = None

    def _listen(self) -> None:
        """Listen on PostgreSQL, unless already listening."""
        if self._store.backend != "postgresql" or self._listening is not None:
            return
        try:
            self._listening = self._store.dedicated_connection()
            self._listening.execute(f"LISTEN {WORK_CHANNEL}")
            self._warned = False
        except Exception as exc:  # noqa: BLE001 - looking on a timer instead still works
            self._lost(f"cannot listen for new training jobs ({exc})")

    def _noticed(self) -> bool:
        if self._listening is None:
            return False
        try:
            return bool(list(self._listening.notifies(timeout=0)))  # every notice so far: one look for all
        except Exception as exc:  # noqa: BLE001 - a lost connection: look on a timer until it is back
            self._lost(f"stopped listening for new training jobs ({exc})")
            return True

    def _lost(self, why: str) -> None:
        if not self._warned:
            log.warning("%s; looking for them every second until listening works again", why)
            self._warned = True
        self.close()
