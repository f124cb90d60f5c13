"""The distribution (kernel density) of objective values per tuning job, drawn beside the scatter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from modeltune.viz.encodings import OBJECTIVE, chart_data, job_color, message_chart, objective_scale


def bandwidth(values: pd.Series) -> float:
    """Scott's rule over all values; a small positive width when they are all equal."""
    v = values.dropna().to_numpy(float)
    spread = float(np.std(v)) if len(v) > 1 else 0.0
    if spread > 0:
        return 1.06 * spread * len(v) ** (-1 / 5)
    return max(abs(float(v[0])) * 0.05, 1e-3) if len(v) else 1.0


def peak_density(trials: pd.DataFrame, bw: float, extent: list[float]) -> float:
    """The highest count-weighted density of any tuning job: no brushed subset of its trials goes higher."""
    grid = np.linspace(extent[0], extent[1], 200)
    peak = 0.0
    for _, values in trials.groupby("TuningJobName")[OBJECTIVE]:
        z = (grid[:, None] - values.dropna().to_numpy(float)[None, :]) / bw
        peak = max(peak, float(np.exp(-0.5 * z**2).sum(axis=1).max()) / (bw * np.sqrt(2 * np.pi)))
    return peak or 1.0


def density_chart(
    trials: pd.DataFrame,
    jobs: Sequence[str],
    objective_label: str,
    highlight: Any = None,
    width: int = 140,
    height: int = 320,
) -> alt.Chart:
    """Density of ``FinalObjectiveValue`` per tuning job, objective on y; only highlighted trials count.

    Densities are weighted by the number of training jobs, so a brushed subset draws as a part of the whole.
    """
    scored = trials[trials["Scored"]]
    if scored.empty:
        return message_chart("Distribution", ["no objective values yet"], width=width)
    bw = bandwidth(scored[OBJECTIVE])
    low, high = float(scored[OBJECTIVE].min()), float(scored[OBJECTIVE].max())
    # Within the observed values, so that the shared objective axis stays that of the scatter.
    extent = [low, high] if high > low else [low - 3 * bw, high + 3 * bw]
    chart = alt.Chart(chart_data(trials), width=width, height=height, title=alt.Title("Distribution", anchor="start"))
    chart = chart.transform_filter("datum.Scored")
    if highlight is not None:
        chart = chart.transform_filter(highlight)
    return (
        chart.transform_density(
            OBJECTIVE, groupby=["TuningJobName"], bandwidth=bw, extent=extent, counts=True, as_=[OBJECTIVE, "density"]
        )
        .mark_line(strokeWidth=2)
        .encode(
            y=alt.Y(field=OBJECTIVE, type="quantitative", title=objective_label, scale=objective_scale(trials)),
            x=alt.X(
                field="density",
                type="quantitative",
                title="training jobs per unit",
                stack=None,
                # Fixed, so that a brush that selects few or no training jobs neither rescales nor empties it.
                scale=alt.Scale(domain=[0, peak_density(scored, bw, extent) * 1.05], nice=False),
            ),
            color=job_color(jobs),
            order=alt.Order(field=OBJECTIVE, type="quantitative"),  # draw each curve along the objective axis
        )
    )
