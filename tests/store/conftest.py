"""Store fixtures: every test runs against each backend in ``backends.BACKENDS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from modeltune.store import Store

from .backends import BACKENDS, Backend


@pytest.fixture(scope="module", params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Each database kind the store supports, set up once per test module."""
    yield from BACKENDS[request.param](tmp_path_factory.mktemp(request.param))


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> Iterator[Store]:
    """An empty store on ``backend``: a new SQLite file, or the module's server database emptied."""
    url = backend.shared_url or backend.new_url()
    opened = Store(url, home=tmp_path / "home")
    if backend.shared_url:
        with opened.write() as session:
            for table in ("metric_values", "training_jobs", "tuning_jobs"):
                session.execute(text(f"DELETE FROM {table}"))
    yield opened
    opened.dispose()
