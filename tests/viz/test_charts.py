"""Chart specs built from real stored tuning jobs: encodings, scales, shared selections and the data drawn."""

from __future__ import annotations

import json
import subprocess
import sys

import altair as alt
import pandas as pd
import pytest

from modeltune.errors import ModeltuneError, NotFoundError
from modeltune.store import Store
from modeltune.viz import visualize_tuning_job
from modeltune.viz.data import load_report_data, resolve_jobs, with_best_so_far
from modeltune.viz.parallel import parallel_frame

from .spec_tools import find, title_of, x_field

HYPERPARAMETERS = ["x", "k", "kind", "lr"]


_SPECS: dict = {}


def spec_of(store: Store | str, jobs, **options) -> dict:
    """The chart spec, built once per arguments in this module (building one takes seconds)."""
    key = (str(store.url if isinstance(store, Store) else store), json.dumps([jobs, options], default=str))
    if key not in _SPECS:
        _SPECS[key] = visualize_tuning_job(jobs, store=store, **options).to_dict()
    return json.loads(json.dumps(_SPECS[key]))


def main_points(spec: dict) -> tuple[dict, list[dict]]:
    (found,) = find(spec, lambda u: u.get("name", "").startswith("progress"))
    return found


def test_main_chart_plots_every_scored_training_job_over_start_time_coloured_by_tuning_job(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    unit, rows = main_points(spec)
    enc = unit["encoding"]

    assert (enc["x"]["field"], enc["x"]["type"]) == ("TrainingStartTime", "temporal")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("FinalObjectiveValue", "quantitative")
    assert enc["y"]["title"] == "loss (Minimize)"
    color = enc["color"]["condition"]
    assert color["field"] == "TuningJobName" and color["scale"]["domain"] == ["rand", "bayes"]
    assert enc["color"]["value"] == "#d3d3d3"  # outside the brushes
    tooltip_fields = [t["field"] for t in enc["tooltip"]]
    assert {"TrainingJobName", "TrainingJobStatus", *HYPERPARAMETERS} <= set(tooltip_fields)
    assert len(rows) == 12 and {r["TuningJobName"] for r in rows} == {"rand", "bayes"}
    assert all(r["Scored"] and r["FinalObjectiveValue"] is not None for r in rows)


def test_best_so_far_line_is_the_running_minimum_per_job_in_start_order(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    ((line, rows),) = find(spec, lambda u: u["encoding"].get("y", {}).get("field") == "BestSoFar")

    assert line["mark"]["interpolate"] == "step-after" and line["mark"]["strokeDash"]
    for job in ("rand", "bayes"):
        ordered = sorted((r for r in rows if r["TuningJobName"] == job), key=lambda r: r["TrainingStartTime"])
        running = pd.Series([r["FinalObjectiveValue"] for r in ordered]).cummin().tolist()
        assert [r["BestSoFar"] for r in ordered] == pytest.approx(running)


def test_best_so_far_respects_maximize() -> None:
    trials = pd.DataFrame(
        {
            "TuningJobName": ["up"] * 3 + ["down"] * 3,
            "TrainingJobName": [f"t{i}" for i in range(6)],
            "TrainingJobStatus": ["Completed", "Failed", "Completed", "Completed", "Stopped", "Completed"],
            "FinalObjectiveValue": [0.5, None, 0.4, 0.5, 0.3, 0.4],
            "TrainingStartTime": pd.to_datetime([1, 2, 3, 1, 2, 3], unit="s", utc=True),
        }
    )

    frame = with_best_so_far(trials, {"up": "Maximize", "down": "Minimize"})

    assert frame["Scored"].tolist() == [True, False, True, True, True, True]
    assert frame["BestSoFar"].tolist()[:1] + frame["BestSoFar"].tolist()[2:] == [0.5, 0.5, 0.5, 0.3, 0.3]


def test_one_chart_per_hyperparameter_with_log_axes_for_log_ranges_and_strips_for_categories(
    jobs_store: Store,
) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    charts = {x_field(u): (u, rows) for u, rows in find(spec, lambda u: u.get("name", "").startswith("hp"))}

    assert set(charts) == set(HYPERPARAMETERS)
    lr, _ = charts["lr"]
    assert lr["encoding"]["x"]["scale"]["type"] == "log" and lr["encoding"]["x"]["type"] == "quantitative"
    assert lr["encoding"]["x"]["scale"]["domain"] == [1e-4, 1.0]  # the whole search range
    assert charts["x"][0]["encoding"]["x"]["scale"] == {"domain": [0.0, 1.0], "zero": False}
    kind, rows = charts["kind"]
    assert kind["mark"]["type"] == "tick"
    assert kind["encoding"]["x"]["type"] == "nominal" and kind["encoding"]["x"]["sort"] == ["a", "b"]
    assert {r["kind"] for r in rows if r["Scored"]} <= {"a", "b"}
    for unit, _ in charts.values():
        assert unit["encoding"]["y"]["field"] == "FinalObjectiveValue"


def test_brushes_are_one_per_chart_and_every_chart_highlights_by_all_of_them(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    params = {p["name"]: p for p in spec["params"]}
    brushes = ["brush_progress", *[f"brush_hp{i}" for i in range(4)]]

    assert set(brushes) <= set(params)
    assert params["brush_progress"]["views"] == ["progress_0"]
    assert params["brush_progress"]["select"]["type"] == "interval"
    assert params["brush_hp2"]["select"]["encodings"] == ["y"]  # kind is categorical: brush the objective only
    # Zoom: scales bound on the main chart, with Shift so that a plain drag still brushes.
    assert params["zoom_progress"]["bind"] == "scales" and "shiftKey" in params["zoom_progress"]["select"]["zoom"]
    assert "!event.shiftKey" in params["brush_progress"]["select"]["on"]
    highlighted = find(spec, lambda u: "condition" in u.get("encoding", {}).get("color", {}))
    assert len(highlighted) >= 1 + 4 + 1  # main, hyperparameters, parallel coordinates
    for unit, _ in highlighted:
        test = unit["encoding"]["color"]["condition"]["test"]
        assert [p["param"] for p in test["and"]] == brushes


def test_density_per_job_is_drawn_beside_the_scatter_and_follows_the_brushes(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    ((density, _),) = find(spec, lambda u: any("density" in t for t in u.get("transform", [])))
    transform = next(t for t in density["transform"] if "density" in t)

    assert density in spec["vconcat"][0]["hconcat"]
    assert spec["vconcat"][0]["resolve"]["scale"]["y"] == "shared"
    assert transform["density"] == "FinalObjectiveValue" and transform["groupby"] == ["TuningJobName"]
    assert transform["bandwidth"] > 0
    assert any("and" in t.get("filter", {}) for t in density["transform"] if isinstance(t.get("filter"), dict))


def test_a_warm_started_job_is_drawn_with_its_parents_on_axes_spanning_both_ranges(jobs_store: Store) -> None:
    assert [name for _, name in resolve_jobs(["child"], jobs_store)] == ["rand", "child"]
    assert [name for _, name in resolve_jobs(["child", "rand"], jobs_store)] == ["rand", "child"]
    assert [name for _, name in resolve_jobs(["child"], jobs_store, include_parents=False)] == ["child"]

    data = load_report_data(resolve_jobs(["child"], jobs_store))

    assert data.jobs == ["rand", "child"]
    assert len(data.trials) == 6 + 3
    x = next(a for a in data.axes if a.name == "x").range
    assert (x.min, x.max) == (0.0, 1.0)
    assert data.trials["x"].between(x.min, x.max).all()


def test_jobs_with_different_objective_metrics_are_refused_not_mixed(jobs_store: Store) -> None:
    with pytest.raises(ModeltuneError) as refused:
        load_report_data(resolve_jobs(["rand", "other"], jobs_store))

    assert str(refused.value) == (
        "tuning jobs 'rand' and 'other' optimise different objective metrics (loss, first), which cannot share one "
        "axis; plot them separately"
    )


def test_parallel_coordinates_place_values_by_their_range_scaling(jobs_store: Store) -> None:
    data = load_report_data(resolve_jobs(["rand"], jobs_store))
    frame = parallel_frame(data.trials, data.axes, data.objective_label)

    assert set(frame["axis"]) == {*HYPERPARAMETERS, "loss (Minimize)"}
    assert frame["position"].between(0, 1).all()
    lr = frame[frame["axis"] == "lr"].merge(data.trials[["TrainingJobName", "lr"]], on="TrainingJobName")
    expected = (lr["lr_y"].map(lambda v: __import__("math").log10(v)) + 4) / 4
    assert lr["position"].tolist() == pytest.approx(expected.tolist())
    objective = frame[frame["axis"] == "loss (Minimize)"]["position"]
    assert objective.min() == 0 and objective.max() == 1


def test_importance_bars_rank_every_hyperparameter(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["rand", "bayes"])
    ((bars, rows),) = find(spec, lambda u: u["mark"] == {"type": "bar", "color": "#4c78a8"})

    assert {r["hyperparameter"] for r in rows} == set(HYPERPARAMETERS)
    assert sum(r["importance"] for r in rows) == pytest.approx(1.0)
    assert bars["encoding"]["y"]["sort"] == [r["hyperparameter"] for r in rows]


def test_advanced_adds_learning_curves_other_metrics_and_status_shapes_and_trials_only_drops_curves(
    jobs_store: Store,
) -> None:
    basic = spec_of(jobs_store, ["rand"])
    advanced = spec_of(jobs_store, ["rand"], advanced=True)
    trials_only = spec_of(jobs_store, ["rand"], advanced=True, trials_only=True)

    def curves(spec: dict) -> list:
        return find(spec, lambda u: x_field(u) == "step")

    assert not curves(basic) and not curves(trials_only)
    lines = [(u, rows) for u, rows in curves(advanced) if u["mark"]["type"] == "line"]
    (objective_line, rows) = lines[0]
    assert objective_line["transform"] == [{"filter": {"field": "metric", "equal": "loss"}}]
    loss_rows = [r for r in rows if r["metric"] == "loss"]
    assert len(loss_rows) == 12 and {r["step"] for r in loss_rows} == {1.0, 2.0}
    assert {"x", "k", "kind", "lr"} <= set(rows[0])  # curves carry hyperparameters, so brushes highlight them
    titles = [title_of(n) for n in advanced["vconcat"][-1]["hconcat"]]
    assert titles == ["Learning curves (objective)", "Metric first"]
    # 'first' has one value per training job: its last value against the objective instead of a curve.
    ((first, first_rows),) = find(advanced, lambda u: x_field(u) == "metric:first")
    assert first["encoding"]["y"]["field"] == "FinalObjectiveValue"
    assert all(r["metric:first"] == pytest.approx(r["FinalObjectiveValue"] + 0.5) for r in first_rows)
    unit, _ = main_points(advanced)
    assert unit["encoding"]["shape"]["field"] == "TrainingJobStatus"


def test_failed_training_jobs_are_marked_and_stopped_ones_keep_their_value(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, ["mixed", "stopped"], advanced=True)
    unit, rows = main_points(spec)
    ((failed, failed_rows),) = find(spec, lambda u: u["mark"].get("shape") == "cross")

    assert set(unit["encoding"]["shape"]["scale"]["domain"]) == {"Completed", "Failed", "Stopped"}
    assert {r["TrainingJobStatus"] for r in rows if r["Scored"]} == {"Completed", "Stopped"}
    assert sum(r["TrainingJobStatus"] == "Failed" for r in failed_rows) == 2
    assert "FailureReason" in [t["field"] for t in failed["encoding"]["tooltip"]]


def test_a_job_without_completed_training_jobs_shows_a_message_instead_of_charts(jobs_store: Store) -> None:
    spec = spec_of(jobs_store, "allfail", advanced=True)
    ((message, rows),) = find(spec, lambda u: u["mark"]["type"] == "text")

    assert title_of(message) == "no completed training job yet"
    assert rows[0]["line"] == "allfail: 2 Failed"
    assert "ValueError: the data is bad" in rows[1]["line"]


def test_tuners_and_store_urls_are_accepted(jobs_store: Store) -> None:
    class Tuner:  # what visualize_tuning_job reads from a HyperparameterTuner
        latest_tuning_job = "bayes"
        store = jobs_store

    by_url = visualize_tuning_job(["rand", Tuner()], store=jobs_store.url).to_dict()

    assert main_points(by_url)[0]["encoding"]["color"]["condition"]["scale"]["domain"] == ["rand", "bayes"]
    chart, trials, curves = visualize_tuning_job("rand", store=jobs_store, return_dfs=True)
    assert len(trials) == 6 and set(curves["metric"]) == {"loss", "first"}


def test_unknown_jobs_and_unusable_arguments_are_clear_errors(jobs_store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"^no tuning job named 'rnad' in the store; did you mean 'rand'\?$"):
        visualize_tuning_job("rnad", store=jobs_store)
    with pytest.raises(ModeltuneError, match="pass a tuning job name or a HyperparameterTuner"):
        visualize_tuning_job([42], store=jobs_store)


def test_without_altair_the_error_names_the_install_command(jobs_store: Store) -> None:
    code = (
        "import sys; sys.modules['altair'] = None\n"
        "from modeltune.viz import visualize_tuning_job\n"
        "try:\n"
        f"    visualize_tuning_job('rand', store={jobs_store.url!r})\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert (
        out.strip()
        == "VizError charts need altair, which is not installed; install it with pip install 'modeltune[viz]'"
    )


def test_the_spec_is_strict_json_even_when_jobs_tune_different_hyperparameters(jobs_store: Store) -> None:
    chart = visualize_tuning_job(["rand", "mixed"], store=jobs_store, advanced=True)

    text = json.dumps(chart.to_dict(), allow_nan=False)  # NaN is not JSON
    ((unit, rows),) = [f for f in find(json.loads(text), lambda u: x_field(u) == "mode")]
    assert {r["mode"] for r in rows} == {None, "crash", "ok"}


@pytest.mark.parametrize("job", ["stopped", "mixed"])
def test_small_and_partly_failed_jobs_render_to_svg(jobs_store: Store, job: str) -> None:
    vl_convert = pytest.importorskip("vl_convert")
    chart = visualize_tuning_job(job, store=jobs_store, advanced=True)

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    svg = vl_convert.vegalite_to_svg(chart.to_dict(), vl_version=version)
    assert "Objective per training job and best so far" in svg
    if job == "stopped":  # one scored training job: too few to rank hyperparameters
        assert "needs at least 4 completed training jobs" in svg


def test_importing_the_package_loads_no_plotting_library() -> None:
    heavy = "('altair', 'vl_convert', 'pandas', 'sklearn')"
    code = f"import sys, modeltune.viz\nprint(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"
