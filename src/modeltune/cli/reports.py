"""The ``plot`` and ``export`` commands: tuning jobs as a chart report or as the analytics table in a file.

Heavy libraries (pandas, altair, vl-convert) load inside the commands so that ``modeltune --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modeltune.cli.common import JobArgument, StoreOption, console, open_store
from modeltune.errors import ModeltuneError

TABLE_FORMATS = (".csv", ".json", ".parquet")


def plot(
    jobs: Annotated[
        list[str],
        typer.Argument(metavar="JOB...", help="Tuning jobs to draw (several are compared).", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="report.html (offline, interactive), .png or .svg.")
    ] = Path("report.html"),
    advanced: Annotated[
        bool, typer.Option("--advanced", help="Also learning curves, other metrics, failed/stopped marks.")
    ] = False,
    trials_only: Annotated[bool, typer.Option("--trials-only", help="Leave out per-step metric curves.")] = False,
    scale: Annotated[float, typer.Option(help="Pixel density of PNG output.", min=0.1, max=10)] = 1.0,
    parents: Annotated[
        bool, typer.Option("--parents/--no-parents", help="Draw warm-started jobs' parents too (default).")
    ] = True,
    store: StoreOption = None,
) -> None:
    """Draw tuning jobs as amtviz-style charts in one HTML file that works offline, or a PNG/SVG picture."""
    from modeltune.viz import plot_report
    from modeltune.viz.export import chart_format

    chart_format(output)
    path = plot_report(
        jobs,
        output,
        advanced=advanced,
        trials_only=trials_only,
        store=open_store(store),
        scale=scale,
        include_parents=parents,
    )
    console.print(f"Wrote {path} ({', '.join(jobs)}{' with their warm-start parents' if parents else ''}).")


def table_format(path: Path) -> str:
    """The extension of ``path`` if it names a table format; else ModeltuneError listing the supported ones."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise ModeltuneError(
            f"cannot write the table to {str(path)!r}: unsupported output extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(TABLE_FORMATS)}"
        )
    return suffix


def write_table(frame: Any, path: Path) -> None:
    """Write ``frame`` as CSV, JSON (records, ISO dates) or Parquet, chosen by the extension.

    Raises:
        ModeltuneError: unsupported extension, or Parquet without pyarrow.
    """
    suffix = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".json":
        frame.to_json(path, orient="records", date_format="iso", indent=2, double_precision=15)
    else:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ModeltuneError("writing Parquet needs pyarrow; install it with pip install pyarrow") from None
        frame.to_parquet(path, index=False)


def export(
    job: JobArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="trials.csv, .json or .parquet.")] = Path("trials.csv"),
    store: StoreOption = None,
) -> None:
    """Write a tuning job's analytics table (one row per training job, SageMaker's columns) to a file."""
    from modeltune.analytics.dataframe import trials_dataframe

    table_format(output)
    frame = trials_dataframe(open_store(store), job)
    write_table(frame, output)
    console.print(f"Wrote {len(frame)} training jobs of {job} to {output}.")
