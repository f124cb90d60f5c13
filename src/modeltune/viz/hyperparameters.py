"""One chart per hyperparameter against the objective: points for numbers (log axes for log ranges), category strips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from modeltune.space import DiscreteRange, IntegerRange
from modeltune.viz.axes import Axis
from modeltune.viz.encodings import (
    OBJECTIVE,
    chart_data,
    field,
    job_color,
    message_chart,
    objective_scale,
    trial_tooltip,
)


def hyperparameter_chart(
    trials: pd.DataFrame,
    axis: Axis,
    jobs: Sequence[str],
    objective_label: str,
    hyperparameters: Sequence[str] = (),
    selections: Sequence[Any] = (),
    highlight: Any = None,
    view: str | None = None,
    width: int = 240,
    height: int = 200,
) -> alt.Chart:
    """``FinalObjectiveValue`` (y) against the hyperparameter ``axis.name`` (x) for the scored trials.

    Numeric ranges draw points on a linear or (for logarithmic ranges) log x axis; categorical
    ranges draw one strip of ticks per value, in the range's order. ``view`` names the Vega-Lite view.
    """
    name = axis.name
    scored = trials[trials["Scored"] & trials[name].notna()] if name in trials else trials.iloc[0:0]
    if scored.empty:
        return message_chart(name, ["no completed training job tried it yet"], width=width, height=40)
    base = (
        alt.Chart(chart_data(trials), width=width, height=height)
        .transform_filter("datum.Scored")
        .transform_filter(f"isValid(datum[{json.dumps(name)}])")
    )
    if axis.categorical:
        values = list(axis.range.values)  # type: ignore[union-attr]
        x = alt.X(field=field(name), type="nominal", title=name, sort=values, axis=alt.Axis(labelAngle=0))
        chart = base.mark_tick(thickness=2, opacity=0.85)
    else:
        scale = alt.Scale(type="log", domain=_bounds(axis)) if axis.log else alt.Scale(domain=_bounds(axis), zero=False)
        integer = isinstance(axis.range, IntegerRange)
        ticks = alt.Axis(tickMinStep=1, format="d") if integer and not axis.log else alt.Axis()
        title = f"{name} (log)" if axis.log else name
        x = alt.X(field=field(name), type="quantitative", title=title, scale=scale, axis=ticks)
        chart = base.mark_point(filled=True, size=50, opacity=0.85)
    chart = chart.properties(name=view).encode(
        x=x,
        y=alt.Y(field=OBJECTIVE, type="quantitative", title=objective_label, scale=objective_scale(trials)),
        color=job_color(jobs, highlight),
        tooltip=trial_tooltip(hyperparameters, objective_label),
    )
    return chart.add_params(*selections) if selections else chart


def _bounds(axis: Axis) -> list[float]:
    """The whole search range, so the axis shows where the search went within it."""
    r = axis.range
    if isinstance(r, DiscreteRange):
        return [float(r.values[0]), float(r.values[-1])]
    return [float(r.min), float(r.max)]  # type: ignore[union-attr]
