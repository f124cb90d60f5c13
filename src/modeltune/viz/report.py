"""Assembling the charts into one interactive report, amtviz style, for one or several tuning jobs."""

from __future__ import annotations

from typing import Any

import altair as alt

from modeltune.errors import ModeltuneError
from modeltune.viz.curves import curves_chart, has_steps, last_value_chart
from modeltune.viz.data import ReportData
from modeltune.viz.distribution import density_chart
from modeltune.viz.encodings import AnyChart, all_of, brush, message_chart, zoom
from modeltune.viz.hyperparameters import hyperparameter_chart
from modeltune.viz.importance import importance_chart
from modeltune.viz.parallel import parallel_chart, parallel_frame
from modeltune.viz.progress import progress_chart

CHARTS_PER_ROW = 3
HELP = (
    "Drag to brush (every chart highlights the same training jobs); "
    "Shift + drag pans, Shift + wheel zooms; double-click resets."
)


def _importance(data: ReportData) -> AnyChart:
    from modeltune.analytics.importance import importance_from_trials

    try:
        frame = importance_from_trials(data.trials, {a.name: a.range for a in data.axes})
    except ModeltuneError as exc:
        return message_chart("Hyperparameter importance", [str(exc)], width=300, height=40)
    return importance_chart(frame)


def build_report(data: ReportData, advanced: bool = False, trials_only: bool = False) -> alt.VConcatChart:
    """All charts of ``data`` in one vertically concatenated chart, linked by brushing.

    Args:
        data: from ``viz.data.load_report_data``.
        advanced: add failed/stopped markers, learning curves of the objective and the other metrics' curves.
        trials_only: leave out everything drawn from per-step metric values (the curves).
    """
    title = alt.Title(f"Tuning job{'s' if len(data.jobs) > 1 else ''}: {', '.join(data.jobs)}", anchor="start")
    names = [a.name for a in data.axes]
    label = data.objective_label
    if data.scored.empty:
        return alt.vconcat(progress_chart(data.trials, data.jobs, label), title=title)
    main_brush, main_zoom = brush("brush_progress"), zoom("zoom_progress")
    hp_brushes = [brush(f"brush_hp{i}", ["y"] if a.categorical else ["x", "y"]) for i, a in enumerate(data.axes)]
    hp_zooms = [zoom(f"zoom_hp{i}", ["y"] if a.categorical else ["x", "y"]) for i, a in enumerate(data.axes)]
    highlight = all_of([main_brush, *hp_brushes])
    statuses = list(data.trials["TrainingJobStatus"].unique())
    main = progress_chart(data.trials, data.jobs, label, names, [main_brush, main_zoom], highlight, advanced, statuses)
    top = alt.hconcat(main, density_chart(data.trials, data.jobs, label, highlight)).resolve_scale(y="shared")
    hp_charts = [
        hyperparameter_chart(data.trials, axis, data.jobs, label, names, [b, z], highlight, view=f"hp{i}")
        for i, (axis, b, z) in enumerate(zip(data.axes, hp_brushes, hp_zooms))
    ]
    rows: list[Any] = [top]
    rows += [alt.hconcat(*hp_charts[i : i + CHARTS_PER_ROW]) for i in range(0, len(hp_charts), CHARTS_PER_ROW)]
    parallel = parallel_chart(parallel_frame(data.trials, data.axes, label), data.jobs, highlight)
    rows.append(alt.hconcat(parallel, _importance(data)))
    if advanced and not trials_only:
        objective_curves = curves_chart(
            data.curves, data.objective, data.jobs, "Learning curves (objective)", highlight
        )
        others = sorted(set(data.curves["metric"]) - {data.objective})
        metric_charts = [
            curves_chart(data.curves, m, data.jobs, f"Metric {m}", highlight, statuses)
            if has_steps(data.curves, m)
            else last_value_chart(data.trials, m, data.jobs, label, highlight)
            for m in others
        ]
        charts = [objective_curves, *metric_charts]
        rows += [alt.hconcat(*charts[i : i + 2]) for i in range(0, len(charts), 2)]
    title = alt.Title(title.text, subtitle=HELP, anchor="start")
    return alt.vconcat(*rows, title=title, spacing=24).resolve_scale(color="shared")
