"""Metrics other than the final objective: values over steps (learning curves), or last values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from modeltune.analytics.dataframe import METRIC_PREFIX
from modeltune.viz.encodings import (
    OBJECTIVE,
    AnyChart,
    chart_data,
    field,
    job_color,
    message_chart,
    objective_scale,
    status_shape,
)


def curves_chart(
    curves: pd.DataFrame,
    metric: str,
    jobs: Sequence[str],
    title: str,
    highlight: Any = None,
    statuses: Sequence[str] | None = None,
    width: int = 360,
    height: int = 220,
) -> AnyChart:
    """``value`` against ``step`` of ``metric`` for each training job; point shapes tell the job's status.

    ``statuses`` lists the statuses in the shape legend (default: those in the rows). Shows a message
    when no training job emitted ``metric`` at more than one step.
    """
    rows = curves[curves["metric"] == metric]
    steps = rows.groupby("TrainingJobName")["step"].nunique()
    if rows.empty or steps.max() < 2 and rows["step"].max() <= 1:
        return message_chart(title, [f"no intermediate values of {metric} (one value per training job)"], width=width)
    base = alt.Chart(chart_data(curves), width=width, height=height).transform_filter(
        alt.FieldEqualPredicate(field="metric", equal=metric)
    )
    x = alt.X(field="step", type="quantitative", title="step", scale=alt.Scale(zero=False))
    y = alt.Y(field="value", type="quantitative", title=metric, scale=alt.Scale(zero=False))
    color = job_color(jobs, highlight)
    detail = alt.Detail(field="TrainingJobName", type="nominal")
    tooltip = [
        alt.Tooltip(field="TrainingJobName", type="nominal", title="training job"),
        alt.Tooltip(field="TrainingJobStatus", type="nominal", title="status"),
        alt.Tooltip(field="step", type="quantitative"),
        alt.Tooltip(field="value", type="quantitative", format=".6g"),
    ]
    lines = base.mark_line(strokeWidth=1.2, opacity=0.7).encode(x=x, y=y, color=color, detail=detail)
    points = base.mark_point(filled=True, size=30).encode(
        x=x, y=y, color=color, shape=status_shape(statuses or rows["TrainingJobStatus"].unique()), tooltip=tooltip
    )
    return alt.layer(lines, points).properties(title=alt.Title(title, anchor="start"))


def has_steps(curves: pd.DataFrame, metric: str) -> bool:
    """True when some training job emitted ``metric`` at two or more steps."""
    rows = curves[curves["metric"] == metric]
    return not rows.empty and int(rows.groupby("TrainingJobName")["step"].nunique().max()) > 1


def last_value_chart(
    trials: pd.DataFrame,
    metric: str,
    jobs: Sequence[str],
    objective_label: str,
    highlight: Any = None,
    width: int = 360,
    height: int = 220,
) -> alt.Chart:
    """The last value of ``metric`` (column ``metric:<name>``) of each training job against its objective."""
    column = f"{METRIC_PREFIX}{metric}"
    if column not in trials or trials[column].isna().all():
        return message_chart(f"Metric {metric}", [f"no training job emitted {metric}"], width=width)
    return (
        alt.Chart(chart_data(trials), width=width, height=height, title=alt.Title(f"Metric {metric}", anchor="start"))
        .transform_filter(f"datum.Scored && isValid(datum[{json.dumps(column)}])")
        .mark_point(filled=True, size=50, opacity=0.85)
        .encode(
            x=alt.X(
                field=field(column), type="quantitative", title=f"{metric} (last value)", scale=alt.Scale(zero=False)
            ),
            y=alt.Y(field=OBJECTIVE, type="quantitative", title=objective_label, scale=objective_scale(trials)),
            color=job_color(jobs, highlight),
            tooltip=[
                alt.Tooltip(field="TrainingJobName", type="nominal", title="training job"),
                alt.Tooltip(field=field(column), type="quantitative", title=metric, format=".6g"),
                alt.Tooltip(field=OBJECTIVE, type="quantitative", title=objective_label, format=".6g"),
            ],
        )
    )
