"""One S3-compatible server for the artifact tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s3server import S3Server, s3_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """moto's server on loopback with a bucket ``models`` (stopped by its PID after the module)."""
    with s3_server() as server:
        yield server


@pytest.fixture
def s3_env(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The server's endpoint and good credentials in this test's environment."""
    for name, value in s3.environment().items():
        monkeypatch.setenv(name, value)
    return s3
