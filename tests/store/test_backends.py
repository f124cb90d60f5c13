"""The backend fixtures themselves: an unreachable server skips, or fails when CI requires the databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import backends


def test_unreachable_server_skips_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends.POSTGRES, "port", 1)
    monkeypatch.delenv("MODELTUNE_REQUIRE_DATABASES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^PostgreSQL at 127\.0\.0\.1:5432 is unreachable \("):
        next(backends.postgres(tmp_path))


def test_unreachable_server_fails_when_databases_are_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends.MARIADB, "port", 1)
    monkeypatch.setenv("MODELTUNE_REQUIRE_DATABASES", "1")
    with pytest.raises(pytest.fail.Exception) as exc_info:
        next(backends.mariadb(tmp_path))
    text = str(exc_info.value)
    assert text.startswith("MariaDB at 127.0.0.1:3306 is unreachable (")
    assert text.endswith("; start it, or unset MODELTUNE_REQUIRE_DATABASES to skip these tests")
