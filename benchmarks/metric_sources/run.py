"""Command line: what reading metric files costs the controller per poll; writes results and SUMMARY.md.

For each file source (``modeltune.report`` JSON lines, the real cloudml-hypertune package's file,
TensorBoard event files written with ``tensorboard.summary.Writer``) it writes N values, then times
one ``read_new()`` that reads them all (values per second) and then idle polls that find nothing new
(the cost every running training job adds to each controller poll).

Example::

    nice .venv/bin/python -m benchmarks.metric_sources.run          # about a minute
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modeltune.metrics.files import HypertuneFileReader, ReportFileReader
from modeltune.metrics.tensorboard import TensorBoardReader

OUT = Path("benchmarks/results/metric_sources")


def _report(folder: Path, count: int) -> Any:
    path = folder / "metrics.jsonl"
    with path.open("w") as handle:
        for step in range(count):
            handle.write(
                json.dumps({"name": "loss", "value": 1.0 / (step + 1), "step": step, "timestamp": time.time()})
            )
            handle.write("\n")
    return ReportFileReader(path)


def _hypertune(folder: Path, count: int) -> Any:
    import hypertune

    path = folder / "output.metrics"
    os.environ["CLOUD_ML_HP_METRIC_FILE"] = str(path)
    reporter = hypertune.HyperTune()
    for step in range(count):
        reporter.report_hyperparameter_tuning_metric("loss", 1.0 / (step + 1), global_step=step)
    return HypertuneFileReader(path)


def _tensorboard(folder: Path, count: int) -> Any:
    from tensorboard.summary import Writer

    writer = Writer(str(folder / "tb"))
    for step in range(count):
        writer.add_scalar("loss", 1.0 / (step + 1), step=step)
    writer.close()
    return TensorBoardReader(folder / "tb")


SOURCES: dict[str, Callable[[Path, int], Any]] = {
    "report": _report,
    "hypertune": _hypertune,
    "tensorboard": _tensorboard,
}


def measure(source: str, count: int, idle_polls: int) -> dict[str, Any]:
    """Seconds to read ``count`` fresh values, and the median seconds of an idle poll afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        reader = SOURCES[source](Path(tmp), count)
        started = time.perf_counter()
        values = reader.read_new()
        first = time.perf_counter() - started
        idle = []
        for _ in range(idle_polls):
            started = time.perf_counter()
            assert reader.read_new() == []
            idle.append(time.perf_counter() - started)
    return {
        "source": source,
        "written": count,
        "read": len(values),
        "first_read_s": first,
        "values_per_s": len(values) / first if first else None,
        "idle_poll_median_ms": statistics.median(idle) * 1000,
    }


def write_summary(rows: list[dict[str, Any]], folder: Path) -> None:
    """SUMMARY.md: one table row per source and size."""
    lines = [
        "# Metric sources: cost per controller poll",
        "",
        "`nice .venv/bin/python -m benchmarks.metric_sources.run` (see `results.json` for the machine).",
        "",
        "| source | values written | values read | first read (s) | values/s | idle poll (ms, median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['written']:,} | {r['read']:,} | {r['first_read_s']:.4f} | "
            f"{r['values_per_s']:,.0f} | {r['idle_poll_median_ms']:.3f} |"
        )
    lines += [
        "",
        "cloudml-hypertune keeps only its last 100 reports in the file, so at most 100 are there to read;",
        "the controller reads while the job runs, so it sees every report (tests/metrics/test_hypertune_package.py).",
    ]
    (folder / "SUMMARY.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    """Run every source at each size and write ``results.json`` and ``SUMMARY.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="values written per source, comma-separated")
    parser.add_argument("--idle-polls", type=int, default=50)
    args = parser.parse_args()
    rows = [measure(source, int(size), args.idle_polls) for size in args.sizes.split(",") for source in SOURCES]
    OUT.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (OUT / "results.json").write_text(json.dumps({"when": when, "machine": machine, "rows": rows}, indent=2) + "\n")
    write_summary(rows, OUT)
    print((OUT / "SUMMARY.md").read_text())


if __name__ == "__main__":
    main()
