"""Hyperparameter importance as a bar chart with one-standard-deviation whiskers."""

from __future__ import annotations

import altair as alt
import pandas as pd

from modeltune.viz.encodings import AnyChart, chart_data, message_chart


def importance_chart(importance: pd.DataFrame, width: int = 300, height: int | None = None) -> AnyChart:
    """Bars of ``importance`` per ``hyperparameter`` (a frame from ``analytics.importance``), largest on top."""
    if importance.empty:
        return message_chart(
            "Hyperparameter importance", ["needs at least 4 completed training jobs"], width=width, height=40
        )
    frame = importance.assign(
        low=(importance["importance"] - importance["std"]).clip(lower=0),
        high=(importance["importance"] + importance["std"]).clip(upper=1),
    )
    order = frame["hyperparameter"].tolist()
    y = alt.Y(field="hyperparameter", type="nominal", sort=order, title=None)
    base = alt.Chart(chart_data(frame), width=width, height=height or max(60, 24 * len(frame)))
    bars = base.mark_bar(color="#4c78a8").encode(
        y=y,
        x=alt.X(
            field="importance", type="quantitative", title="share of explained variance", axis=alt.Axis(format="%")
        ),
        tooltip=[
            alt.Tooltip(field="hyperparameter", type="nominal"),
            alt.Tooltip(field="importance", type="quantitative", format=".1%"),
            alt.Tooltip(field="std", type="quantitative", format=".1%"),
        ],
    )
    whiskers = base.mark_rule(color="#333").encode(
        y=y, x=alt.X(field="low", type="quantitative"), x2=alt.X2(field="high")
    )
    method = str(frame["method"].iloc[0])
    return alt.layer(bars, whiskers).properties(
        title=alt.Title("Hyperparameter importance", subtitle=f"{method} importance, random forest", anchor="start")
    )
