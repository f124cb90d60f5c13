"""Parallel coordinates: every training job as a line across normalised hyperparameter axes and the objective."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from modeltune.viz.axes import Axis
from modeltune.viz.encodings import OBJECTIVE, AnyChart, chart_data, job_color, message_chart

PARALLEL_COLUMNS = ["TrainingJobName", "TuningJobName", "TrainingJobStatus", "axis", "order", "position", "label"]


def _label(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def parallel_frame(trials: pd.DataFrame, axes: Sequence[Axis], objective_label: str) -> pd.DataFrame:
    """Long table: one row per scored training job and axis, ``position`` in [0, 1].

    Hyperparameters are placed by their range's scaling (log ranges evenly in log space, categories
    in equal slices); the objective is scaled between its lowest and highest value. Each row also
    carries the job's start time, objective and hyperparameters so that brushes can highlight it.
    """
    scored = trials[trials["Scored"]]
    rows = []
    low, high = scored[OBJECTIVE].min(), scored[OBJECTIVE].max()
    for index, trial in scored.iterrows():
        common = (trial["TrainingJobName"], trial["TuningJobName"], trial["TrainingJobStatus"])
        for order, axis in enumerate(axes):
            value = trial.get(axis.name)
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            try:
                position = axis.range.to_unit(value)
            except ValueError:
                continue
            rows.append((*common, axis.name, order, position, _label(value), index))
        span = high - low
        position = 0.5 if span == 0 else (trial[OBJECTIVE] - low) / span
        rows.append((*common, objective_label, len(axes), position, _label(trial[OBJECTIVE]), index))
    frame = pd.DataFrame(rows, columns=[*PARALLEL_COLUMNS, "trial"])
    # The fields every brush tests, so that brushing any chart highlights these lines too.
    brushed = ["TrainingStartTime", OBJECTIVE, *(a.name for a in axes if a.name in trials)]
    extra = [c for c in dict.fromkeys(brushed) if c not in PARALLEL_COLUMNS]
    return frame.join(trials[extra], on="trial").drop(columns="trial")


def parallel_chart(
    long: pd.DataFrame, jobs: Sequence[str], highlight: Any = None, width: int = 560, height: int = 260
) -> AnyChart:
    """Lines across the axes of a ``parallel_frame``; the lowest and highest value of each axis are labelled."""
    if long.empty:
        return message_chart("Parallel coordinates", ["no completed training job yet"], width=width)
    axis_order = long.drop_duplicates("axis").sort_values("order")["axis"].tolist()
    x = alt.X(field="axis", type="nominal", sort=axis_order, title=None, axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y(field="position", type="quantitative", axis=None, scale=alt.Scale(domain=[0, 1]))
    lines = (
        alt.Chart(chart_data(long))
        .mark_line(strokeWidth=1.5, opacity=0.7)
        .properties(name="parallel")
        .encode(
            x=x,
            y=y,
            detail=alt.Detail(field="TrainingJobName", type="nominal"),
            color=job_color(jobs, highlight),
            tooltip=[
                alt.Tooltip(field="TrainingJobName", type="nominal", title="training job"),
                alt.Tooltip(field="axis", type="nominal"),
                alt.Tooltip(field="label", type="nominal", title="value"),
            ],
        )
    )
    rules = alt.Chart(chart_data(long)).mark_rule(color="#888").encode(x=x)
    ends = pd.concat([_ends(group) for _, group in long.groupby("axis", sort=False)], ignore_index=True)
    labels = (
        alt.Chart(chart_data(ends))
        .mark_text(dx=4, align="left", fontSize=10, color="#444")
        .encode(x=x, y=y, text=alt.Text(field="label", type="nominal"))
    )
    return alt.layer(rules, lines, labels, width=width, height=height).properties(
        title=alt.Title("Parallel coordinates (axes normalised)", anchor="start")
    )


def _ends(group: pd.DataFrame) -> pd.DataFrame:
    picked = group.loc[[group["position"].idxmin(), group["position"].idxmax()], ["axis", "position", "label"]]
    return picked.drop_duplicates("position")
