"""SQLite specifics: several processes at once, where the file lives, and bad URLs."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from modeltune.core import MetricValue, utcnow
from modeltune.errors import StoreError
from modeltune.store import Store, default_home, repository, resolve_store_url

WRITERS, WRITES = 4, 50


def _write_metrics(url: str, home: str, training_job_id: int, worker: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One writer process: WRITES short transactions of one metric value, plus status updates and reads."""
    try:
        store = Store(url, home=home)
        barrier.wait(60)  # all writers start writing together
        start = utcnow()
        for i in range(WRITES):
            value = MetricValue(f"m{worker}", worker + i / 1000, float(i + 1), start + timedelta(microseconds=i))
            repository.add_metric_values(store, [(training_job_id, value)])
            if i % 10 == 0:
                repository.update_training_job(store, training_job_id, status="InProgress", pid=worker)
                if len(repository.metric_values(store, [training_job_id])[training_job_id]) != i + 1:
                    raise AssertionError(f"writer {worker} does not see its own {i + 1} rows")
        store.dispose()
        results.put(("ok", worker))
    except BaseException as exc:  # noqa: BLE001 - the parent reports whatever went wrong
        results.put(("error", f"writer {worker}: {type(exc).__name__}: {exc}"))


class _Reader(threading.Thread):
    """Reads in this (the parent) process while the writer processes write; counts must never go down."""

    def __init__(self, store: Store, training_job_ids: list[int]):
        super().__init__(daemon=True)
        self.store, self.training_job_ids = store, training_job_ids
        self.stop = threading.Event()
        self.counts: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                values = repository.metric_values(self.store, self.training_job_ids)
                repository.list_tuning_jobs(self.store)
                count = sum(len(v) for v in values.values())
                if self.counts and count < self.counts[-1]:
                    raise AssertionError(f"saw {count} rows after {self.counts[-1]}")
                self.counts.append(count)
                time.sleep(0.005)  # leave CPU to the writers on small machines
        except BaseException as exc:  # noqa: BLE001
            self.error = exc


def test_processes_write_and_read_at_once_without_locks_or_lost_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'modeltune.db'}"
    store = Store(url, home=tmp_path)
    tuning = repository.create_tuning_job(store, "concurrent", {"name": "concurrent"})
    new = [repository.NewTrainingJob(n, f"concurrent-{n}", {}, "log", "out") for n in range(WRITERS)]
    job_ids = [record.id for record in repository.add_training_jobs(store, tuning.id, new)]

    context = multiprocessing.get_context("spawn")
    results, barrier = context.Queue(), context.Barrier(WRITERS)
    writers = [
        context.Process(target=_write_metrics, args=(url, str(tmp_path), job_ids[w], w, barrier, results))
        for w in range(WRITERS)
    ]
    reader = _Reader(store, job_ids)
    reader.start()
    for process in writers:
        process.start()
    outcomes = [results.get(timeout=120) for _ in writers]
    reader.stop.set()
    reader.join(timeout=30)
    for process in writers:
        process.join(timeout=30)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert all(p.exitcode == 0 for p in writers)
    assert reader.error is None

    values = repository.metric_values(store, job_ids)
    for worker, training_job_id in enumerate(job_ids):
        got = values[training_job_id]
        assert [v.step for v in got] == [float(i + 1) for i in range(WRITES)]
        assert [v.value for v in got] == [worker + i / 1000 for i in range(WRITES)]
    assert [j.pid for j in repository.list_training_jobs(store, tuning.id)] == list(range(WRITERS))
    store.dispose()


def test_store_uses_wal_mode(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}", home=tmp_path)
    with store.read() as session:
        assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()


def test_a_writer_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first, second = Store(url, home=tmp_path), Store(url, home=tmp_path)
    tuning = repository.create_tuning_job(first, "t", {})
    released = threading.Event()

    def hold_write_lock() -> None:
        with first.write() as session:
            session.execute(text("UPDATE tuning_jobs SET status_reason = 'held'"))
            time.sleep(0.5)
        released.set()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    time.sleep(0.1)
    repository.update_tuning_job(second, tuning.id, status="Completed")  # waits for the lock, then succeeds
    assert released.is_set()
    holder.join()
    got = repository.get_tuning_job(second, "t")
    assert (got.status, got.status_reason) == ("Completed", "held")
    first.dispose()
    second.dispose()


def test_default_location_is_modeltune_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_HOME", str(tmp_path / "mt-home"))
    monkeypatch.delenv("MODELTUNE_STORE", raising=False)
    assert default_home() == tmp_path / "mt-home"
    assert resolve_store_url() == f"sqlite:///{tmp_path / 'mt-home' / 'modeltune.db'}"
    store = Store()
    repository.create_tuning_job(store, "t", {})
    assert (tmp_path / "mt-home" / "modeltune.db").is_file()
    assert store.jobs_folder() == tmp_path / "mt-home" / "jobs" / store.id
    store.dispose()


def test_modeltune_store_variable_wins_over_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MODELTUNE_STORE", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert resolve_store_url() == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert resolve_store_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_store_folder_under_a_regular_file_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MODELTUNE_HOME", str(blocker / "home"))
    monkeypatch.delenv("MODELTUNE_STORE", raising=False)
    with pytest.raises(StoreError) as exc_info:
        Store()
    assert str(exc_info.value) == (
        f"cannot create the folder {str(blocker / 'home')!r} (Not a directory); "
        "choose a writable location with MODELTUNE_HOME or --store"
    )


def test_store_file_that_is_a_folder_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "db.sqlite").mkdir()
    with pytest.raises(StoreError) as exc_info:
        Store(f"sqlite:///{tmp_path / 'db.sqlite'}", home=tmp_path)
    text = str(exc_info.value)
    assert text.startswith(f"cannot open the store sqlite:///{tmp_path / 'db.sqlite'} (")
    assert text.endswith("); check that it is reachable and writable")


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y", "sqlite//missing-colon.db"])
def test_invalid_url_is_a_store_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as exc_info:
        Store(url, home=tmp_path)
    assert str(exc_info.value) == (
        f"store URL {url!r} is not a valid database URL, e.g. sqlite:///path/to/db or postgresql+psycopg://user@host/db"
    )


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://alice:s3cret@127.0.0.1:1/mt", "mysql+pymysql://alice:s3cret@127.0.0.1:1/mt"],
)
def test_unreachable_server_is_a_store_error_without_the_password(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as exc_info:
        Store(url, home=tmp_path)
    text = str(exc_info.value)
    assert text.startswith(f"cannot open the store {url.replace('s3cret', '***')} (")
    assert "refused" in text
    assert text.endswith("); check that it is reachable and writable")
    assert "s3cret" not in text
