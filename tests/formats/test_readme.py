"""The README's section on SageMaker, Cloud ML and Vertex AI files, run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SECTION = "## SageMaker, Cloud ML and Vertex AI jobs as they are\n"


def _commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split(SECTION)[1].split("\n## ")[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return block.strip().splitlines()


def test_the_readme_commands_run_as_written(home: Path) -> None:
    commands = _commands()
    assert commands[0] == "cd examples/formats"
    folder = ROOT / "examples" / "formats"
    outputs = []
    for line in commands[1:]:
        argv = shlex.split(line)
        assert argv[0] == "modeltune"
        result = subprocess.run(
            [sys.executable, "-m", "modeltune", *argv[1:]],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        outputs.append(result)
    described = json.loads(outputs[-1].stdout)
    assert described["state"] == "SUCCEEDED" and len(described["trainingOutput"]["trials"]) == 4
    assert "TrainingJobDefinition.ResourceConfig.InstanceType=ml.m5.xlarge" in outputs[1].stderr
    assert "pythonModule: train" not in outputs[4].stdout and "metricId: val_accuracy" in outputs[4].stdout
