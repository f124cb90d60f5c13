"""What the format tests share: the fixture folder, channel folders and a one-line error check."""

from __future__ import annotations

import subprocess
from pathlib import Path

FORMATS = Path(__file__).parents[1] / "fixtures" / "formats"
SAGEMAKER = FORMATS / "sagemaker"
TRAINER = "image_classification.py"


def channels(folder: Path) -> list[str]:
    """``--channel`` options for the train and validation folders the example trainer checks."""
    options = []
    for name in ("train", "validation"):
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "data.rec").write_text("records")
        options += ["--channel", f"{name}={folder / name}"]
    return options


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """The command failed with exit code 2 and one line on stderr holding every fragment."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
