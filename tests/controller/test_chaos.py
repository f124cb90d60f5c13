"""Chaos in CI: controllers and training processes killed at random while a tuning job runs.

The full experiment (25 rounds, 200 training jobs) is ``python -m benchmarks.chaos.run``; this is
a shorter run of the same driver, checking the same promises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos.driver import run_chaos


@pytest.mark.slow
def test_killing_controllers_and_training_processes_loses_no_work(tmp_path: Path) -> None:
    report = run_chaos(tmp_path / "chaos", max_jobs=60, max_rounds=6, race_every=3, seed=1)

    assert report.problems() == []
    assert report.rounds >= 4 and report.racing_rounds >= 1
    assert len(report.reattach_seconds) >= report.rounds - 1
