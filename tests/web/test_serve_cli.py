"""``modeltune serve`` refuses what it cannot do with one sentence and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from helpers import modeltune_cli


def test_a_port_in_use_is_named(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = modeltune_cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: port {port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)"
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::1"])
def test_a_short_token_is_refused(home: Path, host: str) -> None:
    result = modeltune_cli("serve", "--host", host, "--port", "0", "--token", "abc")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the token is too short to guess-proof the server; use at least 8 characters"
