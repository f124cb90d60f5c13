"""The objective of each training job against its start time, with each tuning job's best so far."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from modeltune.core import TrainingJobStatus
from modeltune.viz.encodings import (
    OBJECTIVE,
    AnyChart,
    chart_data,
    job_color,
    message_chart,
    objective_scale,
    status_shape,
    trial_tooltip,
)


def progress_chart(
    trials: pd.DataFrame,
    jobs: Sequence[str],
    objective_label: str,
    hyperparameters: Sequence[str] = (),
    selections: Sequence[Any] = (),
    highlight: Any = None,
    mark_failures: bool = False,
    statuses: Sequence[str] | None = None,
    width: int = 520,
    height: int = 320,
) -> AnyChart:
    """Scatter of ``FinalObjectiveValue`` over ``TrainingStartTime`` plus a dashed best-so-far step line per job.

    Args:
        trials: rows with ``Scored`` and ``BestSoFar`` (see ``viz.data.with_best_so_far``).
        jobs: tuning-job names, in colour order.
        objective_label: the y-axis title.
        hyperparameters: names shown in the tooltip.
        selections: brushes and zoom bindings added to this chart.
        highlight: predicate; points where it is false turn grey.
        mark_failures: shape points by status and draw failed jobs without a value as red crosses at the bottom.
        statuses: statuses in the shape legend (default: those of the scored trials).
    """
    scored = trials[trials["Scored"]]
    if scored.empty:
        return message_chart("no completed training job yet", _status_lines(trials), width=width)
    x = alt.X(
        field="TrainingStartTime", type="temporal", title="training job start time", axis=alt.Axis(format="%H:%M:%S")
    )
    y = alt.Y(field=OBJECTIVE, type="quantitative", title=objective_label, scale=objective_scale(trials))
    base = alt.Chart(chart_data(trials), width=width, height=height)
    encoding: dict[str, Any] = {"x": x, "y": y, "color": job_color(jobs, highlight)}
    if mark_failures:
        encoding["shape"] = status_shape(statuses or scored["TrainingJobStatus"].unique())
    points = (
        base.transform_filter("datum.Scored")
        .mark_point(filled=True, size=60, opacity=0.85)
        .properties(name="progress")
        .encode(**encoding, tooltip=trial_tooltip(hyperparameters, objective_label))
    )
    if selections:
        points = points.add_params(*selections)
    best = (
        base.transform_filter("datum.Scored")
        .mark_line(interpolate="step-after", strokeDash=[5, 3], strokeWidth=1.5)
        .encode(x=x, y=alt.Y(field="BestSoFar", type="quantitative"), color=job_color(jobs))
    )
    layers = [best, points]
    if mark_failures and (trials["TrainingJobStatus"].eq(TrainingJobStatus.FAILED) & ~trials["Scored"]).any():
        layers.append(
            base.transform_filter("!datum.Scored && datum.TrainingJobStatus == 'Failed'")
            .mark_point(shape="cross", color="#d62728", filled=True, size=70)
            .encode(
                x=x,
                y=alt.value(height - 6),
                tooltip=[
                    alt.Tooltip(field="TrainingJobName", type="nominal", title="training job"),
                    alt.Tooltip(field="FailureReason", type="nominal", title="failed"),
                ],
            )
        )
    return alt.layer(*layers, title=alt.Title("Objective per training job and best so far", anchor="start"))


def _status_lines(trials: pd.DataFrame) -> list[str]:
    if trials.empty:
        return ["The tuning job has no training job yet."]
    lines = []
    for job, group in trials.groupby("TuningJobName", sort=False):
        counts = group["TrainingJobStatus"].value_counts()
        lines.append(f"{job}: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        for _, row in group[group["FailureReason"].notna()].head(3).iterrows():
            lines.append(f"  {row['TrainingJobName']}: {str(row['FailureReason'])[:100]}")
    return lines
