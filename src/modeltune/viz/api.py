"""The notebook and CLI entry points: visualize tuning jobs, or write the report to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeltune.store import Store
from modeltune.viz._deps import require


def _report(
    tuning_jobs: Any, advanced: bool, trials_only: bool, store: Store | str | None, include_parents: bool
) -> tuple[Any, Any]:
    require("altair")
    from modeltune.viz.data import load_report_data, resolve_jobs
    from modeltune.viz.report import build_report

    data = load_report_data(resolve_jobs(tuning_jobs, store, include_parents))
    return build_report(data, advanced=advanced, trials_only=trials_only), data


def visualize_tuning_job(
    tuning_jobs: Any,
    advanced: bool = False,
    trials_only: bool = False,
    store: Store | str | None = None,
    return_dfs: bool = False,
    include_parents: bool = True,
) -> Any:
    """An interactive Altair chart of one or several tuning jobs (amtviz's ``visualize_tuning_job``).

    Args:
        tuning_jobs: a job name or ``HyperparameterTuner``, or a list of them (compared in one set of charts).
        advanced: also mark failed/stopped training jobs and draw learning curves and the other metrics.
        trials_only: draw only what the trials table holds (no per-step curves), even with ``advanced``.
        store: a ``Store`` or database URL for job names (tuners bring their own); default the embedded store.
        return_dfs: also return the trials and the metric-values DataFrames.
        include_parents: draw a warm-started job's parents too (amtviz does), each as a job of its own.

    Returns:
        The chart, or ``(chart, trials, curves)`` with ``return_dfs``.

    Raises:
        NotFoundError: a job is not in the store.
        VizError: altair is not installed.
        ModeltuneError: the jobs optimise different objective metrics, or a hyperparameter changes kind.
    """
    chart, data = _report(tuning_jobs, advanced, trials_only, store, include_parents)
    return (chart, data.trials, data.curves) if return_dfs else chart


def plot_report(
    tuning_jobs: Any,
    output: Path | str,
    advanced: bool = False,
    trials_only: bool = False,
    store: Store | str | None = None,
    scale: float = 1.0,
    include_parents: bool = True,
) -> Path:
    """Write the report of ``visualize_tuning_job`` to ``output`` (.html offline, .png or .svg).

    Raises:
        VizError: unsupported extension, or altair / vl-convert not installed.
    """
    from modeltune.viz.export import chart_format, save_chart

    chart_format(output)  # fail on a bad extension before reading anything
    chart, _ = _report(tuning_jobs, advanced, trials_only, store, include_parents)
    return save_chart(chart, output, scale=scale)
