"""Database backends for the store contract tests: a fresh SQLite file, PostgreSQL and MariaDB databases.

PostgreSQL and MariaDB get a fresh database ``mt_<random hex>`` per test module, dropped afterwards,
and emptied before every test. An unreachable server skips its tests, unless
``MODELTUNE_REQUIRE_DATABASES=1`` makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def _unreachable(what: str, exc: Exception) -> None:
    reason = f"{what} is unreachable ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})"
    if os.environ.get("MODELTUNE_REQUIRE_DATABASES") == "1":
        pytest.fail(f"{reason}; start it, or unset MODELTUNE_REQUIRE_DATABASES to skip these tests", pytrace=False)
    pytest.skip(reason)


@dataclass
class Backend:
    """One kind of database: ``new_url()`` gives the URL of a new, empty database."""

    name: str
    new_url: Callable[[], str]
    shared_url: str | None = None  # the module's database (None: a new file per test)


def postgres(tmp: Path) -> Iterator[Backend]:
    try:
        import psycopg

        admin = psycopg.connect(dbname="test", autocommit=True, connect_timeout=3, **POSTGRES)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the server is not usable
        _unreachable("PostgreSQL at 127.0.0.1:5432", exc)
    created: list[str] = []

    def new_url() -> str:
        name = f"mt_{uuid.uuid4().hex[:16]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    try:
        yield Backend("postgresql", new_url, new_url())
    finally:
        for name in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def mariadb(tmp: Path) -> Iterator[Backend]:
    try:
        import pymysql

        admin = pymysql.connect(autocommit=True, connect_timeout=3, **MARIADB)
    except Exception as exc:  # noqa: BLE001
        _unreachable("MariaDB at 127.0.0.1:3306", exc)
    created: list[str] = []

    def new_url() -> str:
        name = f"mt_{uuid.uuid4().hex[:16]}"
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        created.append(name)
        return f"mysql+pymysql://root@127.0.0.1:3306/{name}"

    try:
        yield Backend("mariadb", new_url, new_url())
    finally:
        with admin.cursor() as cursor:
            for name in created:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def sqlite(tmp: Path) -> Iterator[Backend]:
    counter = iter(range(1_000_000))
    yield Backend("sqlite", lambda: f"sqlite:///{tmp / f'store-{next(counter)}' / 'modeltune.db'}")


BACKENDS = {"sqlite": sqlite, "postgresql": postgres, "mariadb": mariadb}
