"""Pooled connections to PostgreSQL and MariaDB: one the server closed while it sat idle is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from modeltune.errors import StoreError
from modeltune.store import Store, connection
from modeltune.store import repository as repo

from .backends import Backend, mariadb, postgres


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    make = postgres if request.param == "postgresql" else mariadb
    yield from make(tmp_path_factory.mktemp(request.param))


def _end_its_connection_from_the_server(store: Store) -> None:
    """End the store's pooled connection from the server's side, as a server restart or an idle timeout does."""
    with store.read() as session:
        postgresql = session.get_bind().dialect.name == "postgresql"
        connection_id = session.scalar(text("SELECT pg_backend_pid()" if postgresql else "SELECT CONNECTION_ID()"))
    admin = Store(store.url, home=store.home)
    with admin.read() as session:
        session.execute(text("SELECT pg_terminate_backend(:id)" if postgresql else "KILL :id"), {"id": connection_id})
    admin.dispose()


@pytest.mark.parametrize("idle_ping_seconds", [0.0, 3600.0])
def test_a_connection_the_server_closed_while_idle_is_replaced(
    server: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle_ping_seconds: float
) -> None:
    store = Store(server.new_url(), home=tmp_path / "home")
    assert repo.list_tuning_jobs(store) == []
    _end_its_connection_from_the_server(store)
    monkeypatch.setattr(connection, "IDLE_PING_SECONDS", idle_ping_seconds)
    if idle_ping_seconds:  # not idle long enough to be checked: the closed connection is used and fails
        with pytest.raises(StoreError):
            repo.list_tuning_jobs(store)
    else:
        assert repo.list_tuning_jobs(store) == []
    store.dispose()
