"""One controller per tuning job: a lease row taken by compare-and-set and renewed with the heartbeat.

A lease is an owner token and an expiry time. Taking it succeeds only when nobody
holds it or the holder let it expire, in one conditional UPDATE, so two controllers
that start at once cannot both win on any database. Times come from the machines'
clocks, which must agree to within a few seconds (as NTP keeps them); a lease lasts
``LEASE_SECONDS``, far more than that.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, update

from modeltune.core import utcnow
from modeltune.store.connection import Store, retried
from modeltune.store.records import TuningJob
from modeltune.store.schema import TuningJobRow

# How long a lease lasts without renewal; controllers renew it every HEARTBEAT_SECONDS.
LEASE_SECONDS = 20.0
HEARTBEAT_SECONDS = 2.0


@retried
def take_lease(store: Store, job: TuningJob, owner: str, pid: int, host: str) -> bool:
    """Take the tuning job's lease for ``owner`` unless a live controller holds it.

    A lease is free when nobody holds it, when it expired, or when its holder ran on
    this host and its process is gone (a crash seen at once, not at expiry). The
    update is conditional on the holder read here, so of two controllers only one wins.
    """
    now = utcnow()
    holder = TuningJobRow.lease_owner
    free = or_(holder.is_(None), holder == owner, TuningJobRow.lease_expires_at < now)
    if job.lease_owner is not None and not controller_alive(job):
        free = or_(free, holder == job.lease_owner)
    with store.write() as session:
        taken = session.execute(
            update(TuningJobRow)
            .where(TuningJobRow.id == job.id, free)
            .values(
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
                heartbeat_at=now,
                controller_pid=pid,
                controller_host=host,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


@retried
def renew_lease(store: Store, job_id: int, owner: str) -> bool:
    """Extend ``owner``'s lease; False when it was lost (it expired and another controller took it)."""
    now = utcnow()
    with store.write() as session:
        renewed = session.execute(
            update(TuningJobRow)
            .where(TuningJobRow.id == job_id, TuningJobRow.lease_owner == owner)
            .values(lease_expires_at=now + timedelta(seconds=LEASE_SECONDS), heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


@retried
def release_lease(store: Store, job_id: int, owner: str) -> None:
    """Give the lease up (a no-op when ``owner`` no longer holds it)."""
    with store.write() as session:
        session.execute(
            update(TuningJobRow)
            .where(TuningJobRow.id == job_id, TuningJobRow.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )


def controller_alive(job: TuningJob) -> bool:
    """Whether a controller holds the tuning job: an unexpired lease whose holder, when it runs on this
    host, is still a live process (so a controller that crashed here is seen at once, not at expiry)."""
    if not job.leased:
        return False
    if job.controller_pid and job.controller_host == socket.gethostname():
        return _process_running(job.controller_pid)
    return True


def _process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process on this host (a zombie, killed but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
