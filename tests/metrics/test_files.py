"""Metric files: the modeltune.report JSON lines and the cloudml-hypertune metric file."""

from __future__ import annotations

import collections
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path

from modeltune.metrics.files import HypertuneFileReader, ReportFileReader


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def line(name: str, value: float, step: float | None = None, timestamp: float = 1_700_000_000.25) -> str:
    return json.dumps({"name": name, "value": value, "step": step, "timestamp": timestamp}) + "\n"


# --- ReportFileReader -------------------------------------------------------------------------------------------


def test_missing_file_gives_nothing_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = ReportFileReader(path)
    assert reader.read_new() == []
    path.write_text(line("acc", 0.5))
    assert [(v.name, v.value) for v in reader.read_new()] == [("acc", 0.5)]


def test_reads_only_what_was_appended_since_the_last_call(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = ReportFileReader(path)
    path.write_text(line("acc", 0.1) + line("loss", 2.0))
    first = reader.read_new()
    assert [(v.name, v.value, v.step) for v in first] == [("acc", 0.1, 1), ("loss", 2.0, 1)]
    assert first[0].timestamp == utc(1_700_000_000.25)
    assert reader.read_new() == []
    with path.open("a") as handle:
        handle.write(line("acc", 0.2) + line("acc", 0.3, step=10))
    assert [(v.name, v.value, v.step) for v in reader.read_new()] == [("acc", 0.2, 2), ("acc", 0.3, 10.0)]


def test_partly_written_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = ReportFileReader(path)
    complete, partial = line("acc", 0.1), line("acc", 0.2)
    with path.open("w") as handle:
        handle.write(complete + partial[:17])
    assert [v.value for v in reader.read_new()] == [0.1]
    assert reader.read_new() == []
    with path.open("a") as handle:
        handle.write(partial[17:-1])
    assert reader.read_new() == []
    with path.open("a") as handle:
        handle.write("\n")
    assert [(v.value, v.step) for v in reader.read_new()] == [(0.2, 2)]


def test_bad_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(
        "not json\n"
        + json.dumps({"value": 1.0}) + "\n"
        + json.dumps({"name": "acc", "value": "high"}) + "\n"
        + json.dumps({"name": "acc", "value": None}) + "\n"
        + "[1, 2]\n"
        + line("acc", 0.7)
    )  # fmt: skip
    assert [(v.name, v.value, v.step) for v in ReportFileReader(path).read_new()] == [("acc", 0.7, 1)]


def test_utf8_names_split_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = ReportFileReader(path)
    data = json.dumps({"name": "précision", "value": 0.5, "step": 1, "timestamp": 1.0}, ensure_ascii=False) + "\n"
    raw = data.encode()
    cut = raw.index("é".encode()) + 1  # in the middle of the two-byte character
    path.write_bytes(raw[:cut])
    assert reader.read_new() == []
    path.write_bytes(raw)
    assert [v.name for v in reader.read_new()] == ["précision"]


# --- HypertuneFileReader ----------------------------------------------------------------------------------------


class FakeHypertune:
    """Writes the metric file exactly as cloudml-hypertune 0.1.0.dev6 does (rewritten with the last 100 reports)."""

    def __init__(self, path: Path, trial_id: str = "1"):
        self.path = path
        self.trial_id = trial_id
        self.queue: collections.deque[dict[str, object]] = collections.deque(maxlen=100)
        self.clock = 1_700_000_000.0

    def report(self, tag: str, value: float, global_step: int | None = None) -> None:
        self.clock += 0.125
        self.queue.append(
            {
                "timestamp": self.clock,
                "trial": str(self.trial_id),
                tag: str(float(value)),
                "global_step": str(int(global_step) if global_step else 0),
                "checkpoint_path": "",
            }
        )
        with open(self.path, "w") as handle:
            for metric in self.queue:
                handle.write(json.dumps(metric, sort_keys=True) + "\n")


def test_hypertune_reports_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "hypertune" / "output.metrics"
    path.parent.mkdir()
    reader = HypertuneFileReader(path)
    assert reader.read_new() == []
    writer = FakeHypertune(path)
    writer.report("accuracy", 0.5, global_step=100)
    writer.report("accuracy", 0.625, global_step=200)
    values = reader.read_new()
    assert [(v.name, v.value, v.step) for v in values] == [("accuracy", 0.5, 100.0), ("accuracy", 0.625, 200.0)]
    assert values[0].timestamp == utc(1_700_000_000.125)
    assert reader.read_new() == []  # the file still holds both reports
    writer.report("accuracy", 0.75, global_step=300)
    assert [(v.value, v.step) for v in reader.read_new()] == [(0.75, 300.0)]


def test_hypertune_only_new_reports_when_the_file_keeps_the_last_hundred(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    reader = HypertuneFileReader(path)
    writer = FakeHypertune(path)
    seen = []
    for step in range(1, 131):
        writer.report("loss", 1 / step, global_step=step)
        if step % 40 == 0:
            seen += reader.read_new()
    seen += reader.read_new()
    assert [v.step for v in seen] == list(range(1, 131))
    assert len(path.read_text().splitlines()) == 100


def test_hypertune_without_global_step_has_step_zero_and_several_tags(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    writer = FakeHypertune(path)
    writer.report("training/hptuning/metric", 3.5)
    writer.report("rmse", 1.25)
    values = HypertuneFileReader(path).read_new()
    assert [(v.name, v.value, v.step) for v in values] == [("training/hptuning/metric", 3.5, 0.0), ("rmse", 1.25, 0.0)]


def test_hypertune_skips_unreadable_lines(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    good = {"timestamp": 5.0, "trial": "1", "acc": "0.5", "global_step": "1", "checkpoint_path": "/tmp/ckpt"}
    path.write_text(
        "garbage\n" + json.dumps({"acc": "0.9"}) + "\n" + json.dumps(good) + "\n" + '{"timestamp": 6.0, "ac'
    )
    assert [(v.name, v.value) for v in HypertuneFileReader(path).read_new()] == [("acc", 0.5)]


def test_hypertune_folder_instead_of_file_gives_nothing(tmp_path: Path) -> None:
    assert HypertuneFileReader(tmp_path).read_new() == []


def test_hypertune_non_finite_values_are_read_for_the_caller_to_judge(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    writer = FakeHypertune(path)
    writer.report("loss", math.nan, global_step=1)
    writer.report("loss", math.inf, global_step=2)
    writer.report("loss", 0.5, global_step=3)
    values = HypertuneFileReader(path).read_new()
    assert [str(v.value) for v in values] == ["nan", "inf", "0.5"]


def test_a_hypertune_reader_rebuilt_from_its_position_reads_only_newer_reports(tmp_path: Path) -> None:
    path = tmp_path / "output.metrics"
    writer = FakeHypertune(path)
    writer.report("loss", 0.9, global_step=1)
    first = HypertuneFileReader(path)
    assert [v.value for v in first.read_new()] == [0.9]
    writer.report("loss", 0.7, global_step=2)

    rebuilt = HypertuneFileReader(path, first.last_timestamp)

    assert [(v.value, v.step) for v in rebuilt.read_new()] == [(0.7, 2.0)]


def test_hypertune_real_clock(tmp_path: Path) -> None:
    # Reports a few microseconds apart (as a fast training loop makes them) are all read.
    path = tmp_path / "output.metrics"
    reader = HypertuneFileReader(path)
    queue: list[dict[str, str | float]] = []
    got = []
    for step in range(1, 21):
        queue.append({"timestamp": time.time(), "trial": "0", "acc": str(step / 100), "global_step": str(step)})
        path.write_text("".join(json.dumps(m, sort_keys=True) + "\n" for m in queue))
        got += reader.read_new()
    assert [v.step for v in got] == [float(s) for s in range(1, 21)]
