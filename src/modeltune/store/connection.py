"""Opening the store: where it lives, the database engine, migrations, and short transactions."""

from __future__ import annotations

import functools
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.elements import ClauseElement

from modeltune.errors import StoreError
from modeltune.store.schema import SCHEMA_REVISION, StoreInfoRow

_MIGRATIONS = Path(__file__).parent / "migrations"
# Seconds a writer waits for another process's write transaction before giving up.
_SQLITE_BUSY_TIMEOUT_S = 60
# A pooled server connection unused this long is pinged before use (the server may have closed it);
# busier connections skip that round trip.
IDLE_PING_SECONDS = 10.0


def default_home() -> Path:
    """``$MODELTUNE_HOME``, or ``~/.modeltune``: the database and every training job's files."""
    return Path(os.environ.get("MODELTUNE_HOME") or Path.home() / ".modeltune").expanduser()


def resolve_store_url(url: str | None = None, home: Path | None = None) -> str:
    """The database URL: the argument, else ``$MODELTUNE_STORE``, else SQLite in the home folder."""
    url = url or os.environ.get("MODELTUNE_STORE")
    if url:
        return url
    return f"sqlite:///{(home or default_home()) / 'modeltune.db'}"


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) readable by its owner only, or StoreError saying why it cannot be."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {str(folder)!r} ({exc.strerror}); choose a writable location with "
            "MODELTUNE_HOME or --store"
        ) from None


def _check_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only; refuse an empty file that is already there."""
    make_private_folder(path.parent)
    if not os.access(path.parent, os.W_OK):
        raise StoreError(
            f"the store folder {str(path.parent)!r} is not writable; choose a writable location with "
            "MODELTUNE_HOME or --store"
        )
    if path.exists():
        if path.stat().st_size == 0:
            raise StoreError(
                f"the store file {str(path)!r} is empty (0 bytes), so it holds no tuning jobs; if it is not a "
                "damaged store, delete it and modeltune creates a new one, else restore it from a backup"
            )
        return
    # Made under another name with its header written, then linked in place: another process never
    # sees an empty file, and of two processes creating the store at once one links and one finds it.
    partial = path.with_name(f".{path.name}.{os.getpid()}.new")
    old = os.umask(0o077)
    try:
        first = sqlite3.connect(partial)
        first.execute("PRAGMA journal_mode=WAL")
        first.close()
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
    finally:
        os.umask(old)
        partial.unlink(missing_ok=True)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        _check_sqlite_file(Path(path).expanduser().resolve())
    engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's begin event emit BEGIN itself (pysqlite's own handling defers locks badly).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_S * 1000}")
        _set_wal_mode(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front so two writers never deadlock on a lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat unused for ``IDLE_PING_SECONDS``: one that the
    server closed meanwhile is replaced, and a connection in steady use costs no extra round trip."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # a new connection, or one in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise


_MIGRATION_LOCK = threading.Lock()
# Any fixed number: the key of the advisory lock that serialises migrations.
_ADVISORY_KEY = 7_361_042


def _take_migration_lock(connection: Connection) -> None:
    """Hold a database-wide lock until the transaction ends (PostgreSQL) or the connection closes (MySQL)."""
    backend = connection.dialect.name
    if backend == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})"))
    elif backend in ("mysql", "mariadb"):
        connection.execute(text("SELECT GET_LOCK('modeltune_migrate', 120)"))


def _set_wal_mode(cursor: Any) -> None:
    """Switch to WAL; the switch needs a moment alone with the file and does not wait by itself."""
    for attempt in range(200):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 199:
                raise
            time.sleep(0.05)


class Store:
    """A connection to the store database plus the home folder for logs and outputs.

    Safe to use from several processes at once: SQLite runs in WAL mode with short
    write transactions; PostgreSQL and MySQL use their own row locking.

    Args:
        url: SQLAlchemy URL; defaults to ``$MODELTUNE_STORE`` or ``$MODELTUNE_HOME/modeltune.db``.
        home: folder for training-job logs and outputs; defaults to ``$MODELTUNE_HOME``.
    """

    def __init__(self, url: str | None = None, home: Path | str | None = None):
        self.home = Path(home).expanduser() if home else default_home()
        self.backend = ""  # the database: sqlite, postgresql, mysql, mariadb
        make_private_folder(self.home)
        self._id: str | None = None
        self.url = resolve_store_url(url, self.home)
        try:
            backend = self.backend = make_url(self.url).get_backend_name()
            if backend == "sqlite":
                self._read_engine = _sqlite_engine(self.url, immediate=False)
                self._write_engine = _sqlite_engine(self.url, immediate=True)
            else:
                # READ COMMITTED (PostgreSQL's default) keeps MySQL's InnoDB from locking rows a statement
                # only looked at, which made concurrent workers deadlock.
                options = {"isolation_level": "READ COMMITTED"} if backend in ("mysql", "mariadb") else {}
                self._write_engine = create_engine(self.url, **options)
                # Reads run in autocommit: one round trip per statement, no BEGIN and ROLLBACK around it.
                # They lose nothing: under READ COMMITTED each statement sees its own snapshot anyway.
                self._read_engine = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
                for engine in (self._read_engine, self._write_engine):
                    _ping_idle_connections(engine)
        except (ArgumentError, ValueError):
            raise StoreError(
                f"store URL {redact(self.url)!r} is not a valid database URL, e.g. sqlite:///path/to/db or "
                "postgresql+psycopg://user@host/db"
            ) from None
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"the driver for {backend} is not installed ({exc.name}); install it with "
                f"pip install 'modeltune[{'postgres' if 'postgres' in backend else 'mysql'}]'"
            ) from None
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._migrate()

    def _migrate(self) -> None:
        """Bring the schema to the current revision (Alembic loads only when there is work to do).

        Processes opening a new database at once take turns: SQLite's write lock,
        or an advisory lock on PostgreSQL and MySQL; threads of one process take a
        process-wide lock too, as Alembic's context is global.
        """
        try:
            with self._read_engine.connect() as connection:
                if self._revision(connection) == SCHEMA_REVISION:
                    return
            # A fresh transaction: the check above must not fix the snapshot the locked re-check reads.
            with _MIGRATION_LOCK, self._write_engine.begin() as connection:
                _take_migration_lock(connection)
                if self._revision(connection) == SCHEMA_REVISION:  # another process just did it
                    return
                from alembic import command
                from alembic.config import Config

                config = Config()
                config.set_main_option("script_location", str(_MIGRATIONS))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except DatabaseError as exc:
            raise StoreError(
                f"cannot open the store {self.safe_url} ({_first_line(exc)}); check that it is reachable and writable"
            ) from None

    def _revision(self, connection: Connection) -> str | None:
        """The schema revision of the database (None for a new one); StoreError if modeltune does not know it."""
        if not inspect(connection).has_table("alembic_version"):
            return None
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        known = sorted(p.name.split("_")[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*.py"))
        if revision is not None and revision not in known:
            raise StoreError(
                f"the store {self.safe_url} has schema revision {revision}, newer than this modeltune knows "
                f"({known[-1]}); upgrade modeltune on this machine (pip install -U modeltune)"
            )
        return None if revision is None else str(revision)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it changes is committed."""
        with self._guard(), self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction, committed on success and rolled back on error.

        Raises:
            StoreConflict: the database chose this transaction to undo (a deadlock, a lock wait that
                timed out); running it again usually succeeds (see ``retried``).
        """
        with self._guard(), self._writer.begin() as session:
            yield session

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """A session whose statements commit one by one, each as it runs: a write of one statement in one
        round trip, without BEGIN and COMMIT (on SQLite, a write transaction)."""
        if self.backend == "sqlite":
            with self.write() as session:
                yield session
        else:
            with self._guard(), self._reader() as session:  # the reading engine runs in autocommit
                yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise  # a constraint the caller turns into its own message (e.g. a name already taken)
        except DatabaseError as exc:
            kind = StoreConflict if _is_conflict(exc) else StoreError
            raise kind(f"the store {self.safe_url} failed: {_first_line(exc)}") from None

    @contextmanager
    def write_at_once(self) -> Iterator[Session]:
        """A write transaction sent to a PostgreSQL server whole, BEGIN to COMMIT, and answered in one round
        trip when the block ends: no row stays locked while this process waits for a core. Its statements
        return no rows; read a count from ``result.context.cursor.rowcount`` after the block. Elsewhere
        the same as ``write()``."""
        if self.backend != "postgresql":
            with self.write() as session:
                yield session
            return
        # On an error the transaction stays open until the session ends: then psycopg rolls it back.
        with self.autocommit() as session, at_once(session):
            session.connection().exec_driver_sql("BEGIN")
            yield session
            session.connection().exec_driver_sql("COMMIT")

    def dedicated_connection(self) -> Any:
        """A psycopg connection of this process's own on a PostgreSQL store, outside the pool, in
        autocommit (e.g. to LISTEN); the caller closes it."""
        pooled = self._read_engine.raw_connection()
        connection: Any = pooled.driver_connection
        pooled.detach()
        connection.autocommit = True
        return connection

    def dispose(self) -> None:
        """Close pooled connections (call before forking or at exit)."""
        self._read_engine.dispose()
        self._write_engine.dispose()

    @property
    def id(self) -> str:
        """The store's unique id (made with its schema)."""
        if self._id is None:
            with self.read() as session:
                self._id = session.scalar(select(StoreInfoRow.value).where(StoreInfoRow.key == "store_id"))
            if self._id is None:
                raise StoreError(f"the store {self.safe_url} has no id; it was not created by modeltune")
        return self._id

    def jobs_folder(self) -> Path:
        """Where this store's training jobs keep their logs and outputs: a folder of the home per store,
        so stores that share a home never share files."""
        return self.home / "jobs" / self.id


class StoreConflict(StoreError):
    """A transaction the database undid because it clashed with another one; it may be run again."""


# MySQL/MariaDB: deadlock, lock wait timeout; PostgreSQL: deadlock, serialisation failure.
_CONFLICT_CODES = {1213, 1205}
_CONFLICT_STATES = {"40P01", "40001"}
Result = TypeVar("Result")


@contextmanager
def at_once(session: Session) -> Iterator[None]:
    """PostgreSQL: the statements run in the block on the session's connection are sent together and answered
    in one round trip when it ends (their errors are raised then)."""
    with _as_database_error(), session.connection().connection.driver_connection.pipeline():  # type: ignore[union-attr]
        yield


def for_psycopg(statement: ClauseElement) -> Compiled:
    """``statement`` compiled once for PostgreSQL's psycopg driver, to run with ``run_on_driver``."""
    from sqlalchemy.dialects.postgresql import psycopg

    return statement.compile(dialect=psycopg.dialect())  # type: ignore[no-untyped-call]


def run_on_driver(session: Session, compiled: Compiled, parameters: Mapping[str, Any]) -> Any:
    """Run a statement of ``for_psycopg`` on the session's psycopg connection, without SQLAlchemy's work per
    statement (a statement it cannot cache is compiled again on every call); the driver's cursor, whose rows
    can be read even after a pipeline's round trip, unlike a pipelined SQLAlchemy result. Parameters go to
    psycopg as they are: wrap JSON values in ``psycopg.types.json.Json``."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with _as_database_error():
        cursor.execute(compiled.string, {**compiled.params, **parameters})
    return cursor


@contextmanager
def _as_database_error() -> Iterator[None]:
    """psycopg's errors, raised when a pipeline's answers arrive (outside SQLAlchemy), as SQLAlchemy's."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance("(statements sent together)", None, exc, psycopg.Error) from exc


def _is_conflict(exc: DatabaseError) -> bool:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    return code in _CONFLICT_CODES or getattr(orig, "sqlstate", None) in _CONFLICT_STATES


def retried(function: Callable[..., Result]) -> Callable[..., Result]:
    """``function`` (one write transaction) run again, up to 5 times with a short random wait, when the
    database undoes it because it clashed with another transaction."""

    @functools.wraps(function)
    def again(*args: object, **kwargs: object) -> Result:
        for attempt in range(1, 5):
            try:
                return function(*args, **kwargs)
            except StoreConflict:
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        return function(*args, **kwargs)

    return again


def redact(url: str) -> str:
    """``url`` with the password between ``user:`` and ``@`` replaced by ``***``."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's message without its error-code tuple (PyMySQL's args are (code, message))."""
    orig = getattr(exc, "orig", exc)
    args: tuple[object, ...] = getattr(orig, "args", ())
    text_ = args[1] if len(args) == 2 and isinstance(args[0], int) else str(orig)
    return str(text_).strip().splitlines()[0]
