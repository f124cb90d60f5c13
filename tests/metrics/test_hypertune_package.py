"""The real cloudml-hypertune package's metric file, read as it writes it (not a hand-written copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeltune.metrics.files import HypertuneFileReader

hypertune = pytest.importorskip("hypertune")


def test_reports_are_read_once_with_tag_and_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hypertune" / "output.metrics"
    monkeypatch.setenv("CLOUD_ML_HP_METRIC_FILE", str(path))
    monkeypatch.setenv("CLOUD_ML_TRIAL_ID", "3")
    reporter = hypertune.HyperTune()
    reader = HypertuneFileReader(path)
    reporter.report_hyperparameter_tuning_metric("metric1", 0.5, global_step=100)
    reporter.report_hyperparameter_tuning_metric(None, 0.25)  # the package's default tag, no step
    values = reader.read_new()
    assert [(v.name, v.value, v.step) for v in values] == [
        ("metric1", 0.5, 100.0),
        ("training/hptuning/metric", 0.25, 0.0),
    ]
    assert reader.read_new() == []


def test_the_package_rewriting_its_last_100_reports_loses_nothing_read_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "output.metrics"
    monkeypatch.setenv("CLOUD_ML_HP_METRIC_FILE", str(path))
    reporter = hypertune.HyperTune()
    reader = HypertuneFileReader(path)
    seen = []
    for step in range(1, 251):
        reporter.report_hyperparameter_tuning_metric("loss", 1.0 / step, global_step=step)
        if step % 40 == 0:
            seen += reader.read_new()
    seen += reader.read_new()
    assert [v.step for v in seen] == [float(s) for s in range(1, 251)]
    restarted = HypertuneFileReader(path, reader.last_timestamp)
    assert restarted.read_new() == []
