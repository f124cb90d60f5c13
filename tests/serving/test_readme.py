"""The README's serving section, run as written against a small digits tuning job."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeltune.serving.server import free_port

from .support import group_members, wait_for_ping
from helpers import modeltune_cli

ROOT = Path(__file__).parents[2]


def readme_blocks(language: str) -> list[str]:
    """The ``language`` code blocks of the README's serving section."""
    section = (ROOT / "README.md").read_text().split("## Serving the best model\n")[1].split("\n## ")[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def commands_and_outputs(block: str) -> Iterator[tuple[str, str | None]]:
    """Each command of a shell block with the output shown below it in ``# `` lines (None if none).

    A JSON answer has no final newline, so outputs are compared without it.
    """
    lines = block.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# "):
            continue
        shown = []
        for following in lines[number + 1 :]:
            if not following.startswith("# "):
                break
            shown.append(following[2:])
        yield line, "\n".join(shown) or None


@pytest.fixture(scope="module")
def digits_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A modeltune home with the digits example's tuning job ``digits-random`` (two training jobs)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELTUNE_HOME", str(home))
        patch.delenv("MODELTUNE_STORE", raising=False)
        result = modeltune_cli("run", str(ROOT / "examples/digits/spec.yaml"), "--max-jobs", "2", timeout=600)
        assert result.returncode == 0, result.stderr
        yield home


@pytest.mark.slow
def test_the_readme_serves_and_classifies_five_digits(digits_home: Path, tmp_path: Path) -> None:
    server_block, client_block = readme_blocks("bash")
    (python_block,) = readme_blocks("python")
    port = free_port("127.0.0.1", 0)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # this venv's modeltune
        "SAGEMAKER_BIND_TO_PORT": str(port),
    }
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # the commands run from a copy of the repository's folder
    server = subprocess.Popen(
        ["bash", "-c", f"exec {server_block.strip()}"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_ping(f"http://127.0.0.1:{port}")
        for command, shown in commands_and_outputs(client_block):
            result = subprocess.run(
                ["bash", "-c", command.replace("localhost:8080", f"localhost:{port}")],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, f"{command}\n{result.stderr}"
            assert shown is None or result.stdout.rstrip("\n") == shown, command
        python = subprocess.run([sys.executable, "-c", python_block], cwd=tmp_path, capture_output=True, text=True)
    finally:
        server.terminate()
        server.wait(15)

    assert python.returncode == 0, python.stderr
    assert python.stdout == "[0, 1, 2, 3, 4]\n"
    assert group_members(server.pid) == []
