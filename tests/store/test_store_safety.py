"""A damaged, full or unreachable store, and secrets: one clear line, no data lost, no password shown."""

from __future__ import annotations

import contextlib
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from modeltune.store import Store
from modeltune.store import repository as repo
from modeltune.store.schema import SCHEMA_REVISION

from helpers import modeltune_cli, toy_spec, write_spec


def test_a_corrupted_store_file_is_one_line_and_is_left_as_it_was(home: Path) -> None:
    home.mkdir(parents=True)
    damaged = home / "modeltune.db"
    damaged.write_bytes(b"this is not a database, it is a text file " * 100)

    result = modeltune_cli("list")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: cannot open the store sqlite:///{damaged} (file is not a database); check that it is reachable "
        "and writable"
    )
    assert damaged.read_bytes().startswith(b"this is not a database")


def test_an_empty_store_file_is_refused_not_replaced(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "modeltune.db").write_bytes(b"")

    result = modeltune_cli("list")

    assert result.returncode == 2
    assert "is empty (0 bytes), so it holds no tuning jobs" in result.stderr
    assert (home / "modeltune.db").stat().st_size == 0


def test_a_new_store_is_readable_by_its_owner_only(home: Path) -> None:
    Store().dispose()

    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "modeltune.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://tuner:s3cr3t-pw@127.0.0.1:1/db", "postgresql+psycopg://tuner:***@127.0.0.1:1/db"),
        ("mysql+pymysql://tuner:s3cr3t-pw@127.0.0.1:notaport/db", "mysql+pymysql://tuner:***@127.0.0.1:notaport/db"),
    ],
)
def test_a_store_url_with_a_password_is_never_printed_with_it(home: Path, url: str, shown: str) -> None:
    result = modeltune_cli("list", "--store", url)

    assert result.returncode == 2
    assert "s3cr3t-pw" not in result.stderr + result.stdout
    assert shown in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_credentials_are_one_line_without_the_password(home: Path) -> None:
    result = modeltune_cli("list", "--store", "postgresql+psycopg://nobody:wr0ng-pw@127.0.0.1:5432/test")

    assert result.returncode == 2
    assert "wr0ng-pw" not in result.stderr
    assert result.stderr.startswith(
        "error: cannot open the store postgresql+psycopg://nobody:***@127.0.0.1:5432/test ("
    )


def test_a_store_from_a_newer_modeltune_is_one_line(home: Path) -> None:
    store = Store()
    with store.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.dispose()

    result = modeltune_cli("list")

    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"has schema revision 0099, newer than this modeltune knows ({SCHEMA_REVISION}); upgrade modeltune on this "
        "machine (pip install -U modeltune)"
    )


def test_training_jobs_never_see_the_store_url(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(limits={"max_jobs": 1, "max_parallel_jobs": 1})
    spec["training"]["command"] = [
        "python",
        "-c",
        "import os; print('store:', os.environ.get('MODELTUNE_STORE')); print('loss: 1')",
    ]
    store_url = f"sqlite:///{home / 'modeltune.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "modeltune", "run", str(write_spec(tmp_path, spec))],
        env={**os.environ, "MODELTUNE_STORE": store_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    store = Store(store_url)
    [job] = repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)
    assert Path(job.log_path).read_text().startswith("store: None\n")


def test_a_full_disk_ends_with_one_line_and_the_job_resumes_when_there_is_room(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(limits={"max_jobs": 40, "max_parallel_jobs": 2})
    spec_file = write_spec(tmp_path, spec)
    Store().dispose()  # the store exists; from now on its files may not grow much
    size = (home / "modeltune.db").stat().st_size

    def small_disk() -> None:
        limit = size + 40_000
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = subprocess.run(
        [sys.executable, "-m", "modeltune", "run", str(spec_file)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk,
    )

    assert full.returncode == 2, full.stderr
    assert full.stderr.startswith("error: the store sqlite:///"), full.stderr
    assert len(full.stderr.strip().splitlines()) == 1
    listed = modeltune_cli("describe", "toy", "--json", check=True).stdout
    assert "interrupted: no controller runs this tuning job; 'modeltune resume toy' continues it" in listed
    resumed = modeltune_cli("resume", "toy", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    store = Store()
    jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, "toy").id)
    assert repo.get_tuning_job(store, "toy").status == "Completed"
    assert len([j for j in jobs if j.retry_of is None]) == 40
    assert all(j.status in ("Completed", "Failed") for j in jobs)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` made read-only: by its mode, or for root (whom modes do not stop) as a read-only mount."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_store_folder_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "read-only") as folder:
        result = subprocess.run(
            [sys.executable, "-m", "modeltune", "run", str(write_spec(tmp_path, toy_spec()))],
            env={**os.environ, "MODELTUNE_HOME": str(folder / "home")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert list(folder.iterdir()) == []
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == (
            f"error: cannot create the folder {str(folder / 'home')!r} (Read-only file system); choose a writable "
            "location with MODELTUNE_HOME or --store"
        )
        or "Permission denied" in result.stderr
    )
