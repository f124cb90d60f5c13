"""Shared fixtures: an isolated modeltune home per test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MODELTUNE_HOME (and so a fresh SQLite store) for this test."""
    folder = tmp_path / "home"
    monkeypatch.setenv("MODELTUNE_HOME", str(folder))
    monkeypatch.delenv("MODELTUNE_STORE", raising=False)
    return folder
