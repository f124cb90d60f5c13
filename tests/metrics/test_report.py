"""modeltune.report: the helper training code calls to report metric values."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

import modeltune
from modeltune.metrics.files import ReportFileReader
from modeltune.metrics.report import METRICS_FILE_VARIABLE, report


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_report_appends_one_json_line_per_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(METRICS_FILE_VARIABLE, str(path))
    before = time.time()
    modeltune.report(val_acc=0.93, loss=0.25, step=3)
    modeltune.report(val_acc=0.95)
    lines = read_lines(path)
    assert [(item["name"], item["value"], item["step"]) for item in lines] == [
        ("val_acc", 0.93, 3),
        ("loss", 0.25, 3),
        ("val_acc", 0.95, None),
    ]
    assert all(before <= item["timestamp"] <= time.time() for item in lines)
    assert lines[0]["timestamp"] == lines[1]["timestamp"]  # one call, one time


def test_report_converts_numbers_to_float(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(METRICS_FILE_VARIABLE, str(path))
    import numpy as np

    report(a=np.float32(0.5), b=2)
    assert [(item["value"], type(item["value"])) for item in read_lines(path)] == [(0.5, float), (2.0, float)]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_report_writes_non_finite_values_for_modeltune_to_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: float
) -> None:
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(METRICS_FILE_VARIABLE, str(path))
    report(good=1.0, loss=bad)  # a diverged model must not crash the training script
    assert [str(v.value) for v in ReportFileReader(path).read_new()] == ["1.0", str(bad)]


def test_report_refuses_what_is_not_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(METRICS_FILE_VARIABLE, str(tmp_path / "metrics.jsonl"))
    with pytest.raises(ValueError):
        report(loss="high")  # type: ignore[arg-type]


def test_report_prints_to_stderr_outside_a_tuning_job(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv(METRICS_FILE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    report(val_acc=0.9312, loss=1e-7, step=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "val_acc=0.9312 loss=1e-07\n"
    assert list(tmp_path.iterdir()) == []


def test_a_training_script_reports_and_the_reader_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    script = tmp_path / "train.py"
    script.write_text(
        "import modeltune\n"
        "for epoch in range(1, 4):\n"
        "    modeltune.report(acc=epoch / 10)\n"
        "modeltune.report(acc=1.0, step=9)\n"
    )
    subprocess.run([sys.executable, str(script)], check=True, env={METRICS_FILE_VARIABLE: str(path)}, timeout=30)
    values = ReportFileReader(path).read_new()
    assert [(v.name, v.value, v.step) for v in values] == [
        ("acc", 0.1, 1),
        ("acc", 0.2, 2),
        ("acc", 0.3, 3),
        ("acc", 1.0, 9),
    ]
