"""Encodings and interactions shared by the charts: field names, colours, shapes, tooltips, brushes, zoom."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import pandas as pd

from modeltune.core import TrainingJobStatus

OBJECTIVE = "FinalObjectiveValue"
# Drag draws a brush; the same gestures with Shift held pan, and Shift + wheel zooms (see docs/visualization.md).
DRAG = "[pointerdown[!event.shiftKey], window:pointerup] > window:pointermove!"
SHIFT_DRAG = "[pointerdown[event.shiftKey], window:pointerup] > window:pointermove!"
STATUS_SHAPES = {
    TrainingJobStatus.COMPLETED: "circle",
    TrainingJobStatus.STOPPED: "triangle-up",
    TrainingJobStatus.FAILED: "cross",
    TrainingJobStatus.IN_PROGRESS: "diamond",
    TrainingJobStatus.STOPPING: "triangle-down",
    TrainingJobStatus.PENDING: "square",
}
UNSELECTED = "#d3d3d3"
# What a chart function returns: Altair's layering and ``properties`` may give any of these.
AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart


def chart_data(frame: pd.DataFrame) -> alt.InlineData:
    """Rows as inline JSON values: NaN becomes null (Altair's own conversion keeps NaN under pandas 3).

    Times become milliseconds since the epoch, so brushes on a time axis compare numbers in every
    view, also in views whose data never parsed the field as a date.
    """
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            frame[column] = [None if pd.isna(t) else t.timestamp() * 1000 for t in frame[column]]
    return alt.InlineData(values=json.loads(frame.to_json(orient="records", double_precision=15)))


def objective_scale(trials: pd.DataFrame) -> alt.Scale:
    """The objective axis over the scored values, fixed so that a brush that empties a chart's data keeps it."""
    values = trials.loc[trials["Scored"], OBJECTIVE]
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - max(abs(low) * 0.05, 1e-3), high + max(abs(high) * 0.05, 1e-3)
    return alt.Scale(domain=[low, high], nice=True, zero=False)


def field(name: str) -> str:
    """A column name as a Vega-Lite field (dots and brackets would otherwise mean nesting)."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def job_color(jobs: Sequence[str], highlight: Any = None) -> Any:
    """Colour by tuning job (same colours and one legend for every chart); grey where ``highlight`` is false."""
    color = alt.Color(
        field="TuningJobName",
        type="nominal",
        title="tuning job",
        scale=alt.Scale(domain=list(jobs), scheme="tableau10"),
        legend=alt.Legend(orient="top"),
    )
    return color if highlight is None else alt.condition(highlight, color, alt.value(UNSELECTED))


def status_shape(statuses: Iterable[str] = tuple(STATUS_SHAPES)) -> alt.Shape:
    """Shape by training-job status: circles completed, triangles stopped, crosses failed.

    Args:
        statuses: the statuses to show in the legend (those present in the data).
    """
    shown = [s for s in STATUS_SHAPES if s in set(statuses)]
    return alt.Shape(
        field="TrainingJobStatus",
        type="nominal",
        title="status",
        scale=alt.Scale(domain=[s.value for s in shown], range=[STATUS_SHAPES[s] for s in shown]),
        legend=alt.Legend(orient="top"),
    )


def trial_tooltip(hyperparameters: Sequence[str], objective_label: str) -> list[alt.Tooltip]:
    """The training job's name, job, status, objective, start time and every hyperparameter."""
    return [
        alt.Tooltip(field="TrainingJobName", type="nominal", title="training job"),
        alt.Tooltip(field="TuningJobName", type="nominal", title="tuning job"),
        alt.Tooltip(field="TrainingJobStatus", type="nominal", title="status"),
        alt.Tooltip(field=OBJECTIVE, type="quantitative", title=objective_label, format=".6g"),
        alt.Tooltip(field="TrainingStartTime", type="temporal", title="started", format="%Y-%m-%d %H:%M:%S"),
        *[alt.Tooltip(field=field(hp), type="nominal", title=hp) for hp in hyperparameters],
    ]


# Altair types encodings as a Literal of channel names; these are always "x" and/or "y".
Encodings = Sequence[Any]


def brush(name: str, encodings: Encodings = ("x", "y")) -> Any:
    """An interval selection drawn by dragging (without Shift); double-click clears it."""
    return alt.selection_interval(
        name=name, encodings=list(encodings), on=DRAG, translate=DRAG, zoom="wheel![!event.shiftKey]", empty=True
    )


def zoom(name: str, encodings: Encodings = ("x", "y")) -> Any:
    """Scale binding: Shift + drag pans, Shift + wheel zooms, double-click resets."""
    return alt.selection_interval(
        name=name, bind="scales", encodings=list(encodings), translate=SHIFT_DRAG, zoom="wheel![event.shiftKey]"
    )


def all_of(selections: Sequence[Any]) -> Any:
    """A predicate true where every selection holds (an empty brush holds everywhere); None for none."""
    if not selections:
        return None
    predicates = [alt.ParameterPredicate(param=s.name, empty=True) for s in selections]
    return alt.LogicalAndPredicate(**{"and": predicates})  # type: ignore[no-untyped-call]


def message_chart(title: str, lines: Sequence[str] = (), width: int = 400, height: int = 80) -> alt.Chart:
    """A chart that only says something, e.g. that no training job has completed yet."""
    text = list(lines) or [" "]
    frame = pd.DataFrame({"line": text, "row": range(len(text))})
    return (
        alt.Chart(chart_data(frame), title=alt.Title(title, anchor="start"), width=width, height=height)
        .mark_text(align="left", baseline="top", fontSize=13, color="#555")
        .encode(
            x=alt.value(0),
            y=alt.Y(field="row", type="ordinal", axis=None),
            text=alt.Text(field="line", type="nominal"),
        )
    )
