"""The store contract: the same tests against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from modeltune.core import MetricValue, utcnow
from modeltune.errors import ConflictError, NotFoundError
from modeltune.store import Store, repository
from modeltune.store import connection as store_connection
from modeltune.store.schema import SCHEMA_REVISION

from .backends import Backend

SPEC: dict[str, Any] = {
    "name": "xgb",
    "training": {"command": ["python", "train.py"], "metric_definitions": [{"name": "auc", "regex": "auc=(.*)"}]},
    "objective": {"metric": "auc", "type": "Maximize"},
    "ranges": {"eta": {"type": "Continuous", "min": 0.001, "max": 0.5, "scaling": "Logarithmic"}},
    "limits": {"max_jobs": 4, "max_parallel_jobs": 2},
    "random_seed": 7,
}

# Values that lose digits in single precision or in a decimal round trip.
DOUBLES = [0.1 + 0.2, 1 / 3, 0.9312345678901234, 1e-300, -1.2345678901234567e200, 123456789.98765433]


def add_job(store: Store, tuning_job_id: int, number: int, hyperparameters: dict[str, Any] | None = None):
    name, hyperparameters = f"job-{tuning_job_id}-{number:03d}", hyperparameters or {"eta": 0.1}
    new = repository.NewTrainingJob(number, name, hyperparameters, f"/logs/{number}.log", f"/out/{number}")
    return repository.add_training_jobs(store, tuning_job_id, [new])[0]


class TestStoreContract:
    def test_create_and_get_tuning_job(self, store: Store) -> None:
        before = utcnow()
        created = repository.create_tuning_job(store, "xgb", SPEC)
        assert created.name == "xgb" and created.status == "InProgress" and not created.terminal
        assert before - timedelta(seconds=1) <= created.created_at <= utcnow() + timedelta(seconds=1)
        got = repository.get_tuning_job(store, "xgb")
        assert got == created
        assert got.spec == SPEC
        assert got.ended_at is None and got.heartbeat_at is None and got.controller_pid is None

    def test_list_tuning_jobs_newest_first(self, store: Store) -> None:
        assert repository.list_tuning_jobs(store) == []
        for name in ("first", "second", "third"):
            repository.create_tuning_job(store, name, SPEC)
        assert [j.name for j in repository.list_tuning_jobs(store)] == ["third", "second", "first"]

    def test_duplicate_name_is_a_conflict_and_the_store_still_works(self, store: Store) -> None:
        repository.create_tuning_job(store, "xgb", SPEC)
        with pytest.raises(ConflictError) as exc_info:
            repository.create_tuning_job(store, "xgb", {"other": True})
        assert str(exc_info.value) == (
            "a tuning job named 'xgb' already exists in the store; choose a new name (e.g. --name xgb-2)"
        )
        assert repository.get_tuning_job(store, "xgb").spec == SPEC
        repository.create_tuning_job(store, "xgb-2", SPEC)
        assert len(repository.list_tuning_jobs(store)) == 2

    def test_names_are_case_sensitive(self, store: Store, backend: Backend, request: pytest.FixtureRequest) -> None:
        repository.create_tuning_job(store, "mnist", SPEC)
        repository.create_tuning_job(store, "MNIST", {**SPEC, "name": "MNIST"})
        assert repository.get_tuning_job(store, "MNIST").spec["name"] == "MNIST"
        assert repository.get_tuning_job(store, "mnist").spec["name"] == "xgb"

    def test_unknown_name_suggests_a_close_one(self, store: Store) -> None:
        repository.create_tuning_job(store, "resnet-lr-sweep", SPEC)
        repository.create_tuning_job(store, "xgb-depth", SPEC)
        with pytest.raises(NotFoundError) as exc_info:
            repository.get_tuning_job(store, "resnet-lr-swep")
        assert str(exc_info.value) == (
            "no tuning job named 'resnet-lr-swep' in the store; did you mean 'resnet-lr-sweep'?"
        )

    def test_unknown_name_without_a_close_one_points_to_list(self, store: Store) -> None:
        with pytest.raises(NotFoundError) as exc_info:
            repository.get_tuning_job(store, "anything")
        assert (
            str(exc_info.value) == "no tuning job named 'anything' in the store; 'modeltune list' shows the tuning jobs"
        )

    def test_update_tuning_job(self, store: Store) -> None:
        job = repository.create_tuning_job(store, "xgb", SPEC)
        ended = datetime(2026, 1, 2, 3, 4, 5, 678901)
        repository.update_tuning_job(
            store,
            job.id,
            status="Failed",
            status_reason="all training jobs failed",
            ended_at=ended,
            controller_pid=4321,
        )
        got = repository.get_tuning_job(store, "xgb")
        assert (got.status, got.status_reason, got.ended_at, got.controller_pid) == (
            "Failed",
            "all training jobs failed",
            ended,
            4321,
        )
        assert got.terminal

    def test_training_jobs_round_trip(self, store: Store) -> None:
        tuning = repository.create_tuning_job(store, "xgb", SPEC)
        other = repository.create_tuning_job(store, "other", SPEC)
        assert repository.count_training_jobs(store, tuning.id) == 0
        for number in (2, 1, 3):
            add_job(store, tuning.id, number)
        add_job(store, other.id, 1)
        jobs = repository.list_training_jobs(store, tuning.id)
        assert [j.number for j in jobs] == [1, 2, 3]
        assert repository.count_training_jobs(store, tuning.id) == 3
        first = jobs[0]
        assert (first.name, first.status, first.log_path, first.output_dir) == (
            f"job-{tuning.id}-001",
            "Pending",
            "/logs/1.log",
            "/out/1",
        )
        assert first.final_objective is None and first.elapsed_seconds is None

        started = datetime(2026, 3, 1, 12, 0, 0, 123456)
        ended = started + timedelta(seconds=61, microseconds=500001)
        repository.update_training_job(
            store,
            first.id,
            status="Completed",
            final_objective=DOUBLES[0],
            started_at=started,
            ended_at=ended,
            exit_code=0,
            pid=99999,
        )
        got = repository.get_training_job(store, tuning, first.name)
        assert got.status == "Completed" and got.exit_code == 0 and got.pid == 99999
        assert got.final_objective == DOUBLES[0]  # double precision, not single
        assert got.started_at == started and got.ended_at == ended  # microseconds kept
        assert got.elapsed_seconds == 61.500001
        assert repository.get_training_job(store, tuning, "2").number == 2  # by number too

    @pytest.mark.parametrize("value", DOUBLES)
    def test_final_objective_keeps_double_precision(self, store: Store, value: float) -> None:
        tuning = repository.create_tuning_job(store, "xgb", SPEC)
        job = add_job(store, tuning.id, 1)
        repository.update_training_job(store, job.id, final_objective=value)
        assert repository.list_training_jobs(store, tuning.id)[0].final_objective == value

    def test_unknown_training_job_suggests_a_close_one(self, store: Store) -> None:
        tuning = repository.create_tuning_job(store, "xgb", SPEC)
        add_job(store, tuning.id, 1)
        with pytest.raises(NotFoundError) as exc_info:
            repository.get_training_job(store, tuning, f"job-{tuning.id}-01")
        assert str(exc_info.value) == (
            f"tuning job 'xgb' has no training job 'job-{tuning.id}-01'; did you mean 'job-{tuning.id}-001'?"
        )
        with pytest.raises(NotFoundError, match="'modeltune training-jobs xgb' lists them"):
            repository.get_training_job(store, tuning, "7")

    def test_hyperparameters_keep_their_json_types(self, store: Store) -> None:
        tuning = repository.create_tuning_job(store, "xgb", SPEC)
        hps = {
            "eta": 0.1 + 0.2,
            "max_depth": 7,
            "big": 2**40,
            "objective": "binary:logistic",
            "early_stop": True,
            "verbose": False,
            "label": "1.0",
            "unicode": "précision ✓",
        }
        add_job(store, tuning.id, 1, hps)
        got = repository.list_training_jobs(store, tuning.id)[0].hyperparameters
        assert got == hps
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in hps.items()}

    def test_metric_values_round_trip_in_emission_order(self, store: Store) -> None:
        tuning = repository.create_tuning_job(store, "xgb", SPEC)
        a, b = add_job(store, tuning.id, 1), add_job(store, tuning.id, 2)
        t0 = datetime(2026, 5, 6, 7, 8, 9, 1)
        values_a = [MetricValue("auc", v, float(i + 1), t0 + timedelta(microseconds=i)) for i, v in enumerate(DOUBLES)]
        values_b = [MetricValue("loss", 2.5, 0.5, t0), MetricValue("loss", 1.25, 1.5, t0 + timedelta(seconds=1))]
        repository.add_metric_values(store, [(a.id, values_a[0]), (b.id, values_b[0])])
        repository.add_metric_values(store, [(a.id, v) for v in values_a[1:]] + [(b.id, values_b[1])])
        repository.add_metric_values(store, [])  # nothing to write is fine
        got = repository.metric_values(store, [a.id, b.id, 12345])
        assert got == {a.id: values_a, b.id: values_b, 12345: []}
        assert repository.metric_values(store, []) == {}

    def test_request_stop_only_moves_in_progress_to_stopping(self, store: Store) -> None:
        repository.create_tuning_job(store, "running", SPEC)
        assert repository.request_stop(store, "running").status == "Stopping"
        assert repository.request_stop(store, "running").status == "Stopping"
        for status in ("Completed", "Failed", "Stopped"):
            job = repository.create_tuning_job(store, status.lower(), SPEC)
            repository.update_tuning_job(store, job.id, status=status)
            assert repository.request_stop(store, status.lower()).status == status
        with pytest.raises(NotFoundError, match="did you mean 'running'"):
            repository.request_stop(store, "runing")

    def test_reopening_a_store_runs_no_migration_and_keeps_the_data(
        self, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        repository.create_tuning_job(store, "xgb", SPEC)
        calls: list[str] = []
        monkeypatch.setattr(command, "upgrade", lambda *a, **k: calls.append("upgrade"))
        again = Store(store.url, home=tmp_path / "home")
        try:
            assert calls == []
            assert repository.get_tuning_job(again, "xgb").spec == SPEC
            assert _versions(again) == [_head()]
        finally:
            again.dispose()

    def test_a_new_database_is_migrated_once(
        self, backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = backend.new_url()
        real_upgrade = command.upgrade
        calls: list[str] = []

        def counting_upgrade(*args: Any, **kwargs: Any) -> None:
            calls.append("upgrade")
            real_upgrade(*args, **kwargs)

        monkeypatch.setattr(command, "upgrade", counting_upgrade)
        stores = [Store(url, home=tmp_path), Store(url, home=tmp_path)]
        try:
            assert calls == ["upgrade"]
            assert _versions(stores[1]) == [_head()]
            repository.create_tuning_job(stores[0], "xgb", SPEC)
            assert repository.get_tuning_job(stores[1], "xgb").name == "xgb"
        finally:
            for opened in stores:
                opened.dispose()

    def test_processes_opening_a_new_database_at_once_all_succeed(
        self, backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        # A controller, a web console and the CLI may all be the first to open a shared store.
        url = backend.new_url()
        # fork, not spawn: the children start at once with everything imported, so they really race;
        # each one builds its own engine, nothing open is shared.
        context = multiprocessing.get_context("fork")
        barrier, results = context.Barrier(3), context.Queue()
        children = [context.Process(target=_open_store, args=(url, str(tmp_path), barrier, results)) for _ in range(3)]
        for child in children:
            child.start()
        outcomes = [results.get(timeout=60) for _ in children]
        for child in children:
            child.join(timeout=30)
        assert outcomes == ["ok"] * 3


def test_schema_revision_is_the_newest_migration() -> None:
    # Store skips migrating when the database is at SCHEMA_REVISION; a new migration must bump it.
    assert SCHEMA_REVISION == _head()


def _open_store(url: str, home: str, barrier: Any, results: Any) -> None:
    """In a child process: open the store at the same moment as the others."""
    try:
        barrier.wait(30)
        Store(url, home=home).dispose()
        results.put("ok")
    except BaseException as exc:  # noqa: BLE001 - the parent reports whatever went wrong
        results.put(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(store_connection._MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _versions(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(text("SELECT version_num FROM alembic_version")))
