"""Fixtures: a fresh database on every backend (SQLite, PostgreSQL, MariaDB) and processes that share it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.backends import BACKENDS, Backend

EVALUATE = Path(__file__).parent / "evaluate.py"


@pytest.fixture(scope="module", params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Each database kind the store supports, set up once per test module."""
    yield from BACKENDS[request.param](tmp_path_factory.mktemp(request.param))


@pytest.fixture
def url(backend: Backend) -> str:
    """The URL of a new, empty database on ``backend``."""
    return backend.new_url()


def environment(home: Path, lease: float | None = None) -> dict[str, str]:
    """The environment of a study process; ``lease``: seconds a silent process keeps its evaluations."""
    env = {**os.environ, "MODELTUNE_HOME": str(home)}
    env.pop("MODELTUNE_STORE", None)
    if lease is not None:
        env["MODELTUNE_WORK_LEASE_SECONDS"] = str(lease)
    return env


def start(
    env: dict[str, str], url: str, name: str, strategy: str, n: int, max_jobs: int, pause: float, *mode: str
) -> subprocess.Popen[str]:
    """Start one process running ``evaluate.py`` (see there) on the study ``name``."""
    args = [url, name, strategy, str(n), str(max_jobs), str(pause), *mode]
    return subprocess.Popen(
        [sys.executable, str(EVALUATE), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
