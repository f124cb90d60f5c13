"""Executor fixtures: every test runs against each implementation in ``support.EXECUTORS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modeltune.executors import Executor

from .support import EXECUTORS, Jobs


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    """A fresh executor; anything still running at the end is killed."""
    instance = EXECUTORS[request.param]()
    yield instance
    instance.close(grace_seconds=0)


@pytest.fixture
def jobs(executor: Executor, tmp_path: Path) -> Jobs:
    """Launches small Python scripts written into ``tmp_path`` on ``executor``."""
    return Jobs(executor, tmp_path)
