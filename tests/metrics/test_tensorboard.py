"""TensorBoard event files as a metric source: by tag, with steps, read once across restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from modeltune.metrics.tensorboard import TensorBoardReader

from helpers import modeltune_cli, write_spec

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"
Writer = pytest.importorskip("tensorboard.summary").Writer


def _legacy_event(folder: Path, tag: str, value: float, step: int) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
    writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))
    writer.close()


def test_scalars_are_read_by_tag_with_their_steps_once(tmp_path: Path) -> None:
    writer = Writer(str(tmp_path))
    for step in (1, 2):
        writer.add_scalar("accuracy", 0.5 + step / 10, step=step)
    writer.flush()
    _legacy_event(tmp_path / "validation", "metric1", 0.25, 7)
    reader = TensorBoardReader(tmp_path)

    first = reader.read_new()
    assert [(v.name, v.step, round(v.value, 6)) for v in first] == [
        ("accuracy", 1.0, 0.6),
        ("accuracy", 2.0, 0.7),
        ("validation/metric1", 7.0, 0.25),
    ]
    assert reader.read_new() == []

    writer.add_scalar("accuracy", 0.9, step=3)
    writer.flush()
    assert [(v.name, v.step) for v in reader.read_new()] == [("accuracy", 3.0)]
    writer.add_scalar("accuracy", 0.95, step=4)
    writer.close()
    restarted = TensorBoardReader(tmp_path, json.loads(json.dumps(reader.counts)))
    assert [(v.name, v.step) for v in restarted.read_new()] == [("accuracy", 4.0)]


def test_a_missing_folder_has_no_values(tmp_path: Path) -> None:
    assert TensorBoardReader(tmp_path / "not-yet").read_new() == []


def test_a_trainer_writing_summaries_is_tuned_on_them(home: Path, tmp_path: Path) -> None:
    spec = {
        "name": "tensorboard",
        "training": {
            "command": ["python", "tensorboard_trainer.py"],
            "source_dir": str(FIXTURES),
            "tensorboard_dir": "output/tensorboard",
            "metric_definitions": [{"name": "metric1"}, {"name": "validation/loss"}],
        },
        "objective": {"metric": "metric1", "type": "Maximize"},
        "ranges": {"x": {"type": "Continuous", "min": 0.0, "max": 1.0}},
        "strategy": "Random",
        "limits": {"max_jobs": 2, "max_parallel_jobs": 2},
    }
    modeltune_cli("run", str(write_spec(tmp_path, spec)), check=True, timeout=300)
    jobs = json.loads(modeltune_cli("training-jobs", "tensorboard", "--json", check=True).stdout)
    assert len(jobs) == 2
    for job in jobs:
        x = job["TunedHyperParameters"]["x"]
        expected = 1.0 - (x - 0.3) ** 2 - 0.5 / 3
        assert job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(expected, abs=1e-6)
        assert [point["Step"] for point in job["ObjectiveCurve"]] == [10, 20, 30]


def test_a_folder_outside_the_training_job_is_refused(home: Path, tmp_path: Path) -> None:
    spec = {
        "name": "outside",
        "training": {"command": ["python", "t.py"], "tensorboard_dir": "../shared"},
        "objective": {"metric": "m"},
        "ranges": {"x": {"type": "Continuous", "min": 0.0, "max": 1.0}},
    }
    result = modeltune_cli("run", str(write_spec(tmp_path, spec)))
    assert result.returncode == 2
    assert "training.tensorboard_dir: '../shared' must be a folder inside the training job's folder" in result.stderr
