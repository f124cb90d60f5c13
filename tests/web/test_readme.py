"""The README's web section, run as written (against a server on a free port) with the digits example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modeltune.store import repository as repo

from .support import WebServer

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    """The commands of the section's first bash block, continuation lines joined, setup lines left out."""
    section = (ROOT / "README.md").read_text().split("## Web console and REST API\n")[1].split("\n## ")[0]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)[0]
    commands = [c for c in block.replace("\\\n", "").splitlines() if c and not c.startswith("#")]
    return [c for c in commands if not c.startswith(("pip install", "modeltune serve"))]


@pytest.mark.slow
def test_the_readme_web_examples_run(server: WebServer, tmp_path: Path) -> None:
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # modeltune and python of this environment
    env = {**os.environ, "MODELTUNE_HOME": str(server.store.home), "PATH": path}
    env.pop("MODELTUNE_STORE", None)
    for command in readme_commands():
        command = command.replace("http://127.0.0.1:8600", server.url).replace("examples/", f"{ROOT}/examples/")
        shell = ["bash", "-o", "pipefail", "-c", command]
        result = subprocess.run(shell, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "detail" not in result.stdout, f"{command}\n{result.stdout[-2000:]}"
    assert len((tmp_path / "trials.csv").read_text().splitlines()) == 9
    warm = repo.get_tuning_job(server.store, "digits-warm")
    assert warm.status == "Stopped" and warm.spec["warm_start"]["parents"] == ["digits-random"]
