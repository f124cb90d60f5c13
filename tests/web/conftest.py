"""A real ``modeltune serve`` process on a loopback port, over a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from viz.conftest import browser  # noqa: F401  (headless Chromium, shared with the chart tests)

from .support import WebServer, stop_controllers, web_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WebServer]:
    """A server on a fresh store without a token; controllers it started are stopped afterwards."""
    with web_server(tmp_path / "home") as running:
        try:
            yield running
        finally:
            running.process.terminate()
            stop_controllers(running.store)
