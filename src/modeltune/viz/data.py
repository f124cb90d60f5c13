"""Loading the tidy tables the charts draw: trials of one or more tuning jobs, their metric curves, their axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from modeltune.analytics.dataframe import curves_dataframe, trials_dataframe
from modeltune.core import SCORED_TRAINING, ObjectiveType
from modeltune.errors import ModeltuneError, NotFoundError
from modeltune.space import Range
from modeltune.spec import TuningJobSpec
from modeltune.store import Store
from modeltune.store import repository as repo
from modeltune.viz.axes import Axis, union_range

OBJECTIVE = "FinalObjectiveValue"


@dataclass(frozen=True)
class ReportData:
    """Everything a report draws; each frame is tidy (one row per training job or per metric value)."""

    jobs: list[str]
    objective: str
    objective_types: dict[str, ObjectiveType]
    axes: list[Axis]
    trials: pd.DataFrame
    curves: pd.DataFrame = field(repr=False)

    @property
    def objective_label(self) -> str:
        """Axis title of the objective, e.g. ``loss (Minimize)``."""
        types = sorted(set(self.objective_types.values()))
        return f"{self.objective} ({types[0]})" if len(types) == 1 else self.objective

    @property
    def scored(self) -> pd.DataFrame:
        """The trials that have a final objective value."""
        return self.trials[self.trials["Scored"]]


def resolve_jobs(
    tuning_jobs: Any, store: Store | str | None = None, include_parents: bool = True
) -> list[tuple[Store, str]]:
    """(store, name) pairs from one or a list of job names or ``HyperparameterTuner`` objects.

    With ``include_parents`` a warm-started job brings its parents (those still stored) before it,
    as amtviz draws a warm-started job with the training jobs it learnt from.
    """
    items = tuning_jobs if isinstance(tuning_jobs, (list, tuple)) else [tuning_jobs]
    if not items:
        raise ModeltuneError("no tuning job given; pass a job name, a HyperparameterTuner or a list of them")
    default = store if isinstance(store, Store) else None
    pairs = []
    for item in items:
        if isinstance(item, str):
            default = default or Store(store if isinstance(store, str) else None)
            pairs.append((default, item))
        elif hasattr(item, "latest_tuning_job") and hasattr(item, "store"):
            if item.latest_tuning_job is None:
                raise ModeltuneError("this tuner has not started a tuning job yet; call fit() first")
            pairs.append((item.store, item.latest_tuning_job))
        else:
            raise ModeltuneError(f"cannot plot {item!r}; pass a tuning job name or a HyperparameterTuner")
    return _with_parents(pairs) if include_parents else pairs


def _with_parents(pairs: list[tuple[Store, str]]) -> list[tuple[Store, str]]:
    """``pairs`` with each job's warm-start parents before it, each job once."""
    ordered: list[tuple[Store, str]] = []
    for store, name in pairs:
        warm = TuningJobSpec.model_validate(repo.get_tuning_job(store, name).spec).warm_start
        for parent in warm.parents if warm else []:
            try:
                repo.get_tuning_job(store, parent)
            except NotFoundError:  # deleted since: nothing to draw
                continue
            ordered.append((store, parent))
        ordered.append((store, name))
    return list(dict.fromkeys(ordered))


def with_best_so_far(trials: pd.DataFrame, objective_types: Mapping[str, str]) -> pd.DataFrame:
    """Add ``Scored`` and ``BestSoFar``: the best objective among each job's trials started up to this one."""
    frame = trials.copy()
    frame["Scored"] = frame["TrainingJobStatus"].isin(SCORED_TRAINING) & frame[OBJECTIVE].notna()
    frame["BestSoFar"] = float("nan")
    for job, group in frame[frame["Scored"]].groupby("TuningJobName", sort=False):
        ordered = group.sort_values(["TrainingStartTime", "TrainingJobName"])
        values = ordered[OBJECTIVE]
        best = values.cummax() if objective_types.get(str(job)) == ObjectiveType.MAXIMIZE else values.cummin()
        frame.loc[ordered.index, "BestSoFar"] = best
    return frame


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def json_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values in text and mixed columns as None (JSON null) rather than NaN, which JSON lacks."""
    frame = frame.copy()
    for column in frame.columns:
        dtype = frame[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)):
            values = [None if _missing(v) else v for v in frame[column]]
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def load_report_data(pairs: Sequence[tuple[Store, str]]) -> ReportData:
    """Read the trials and metric values of every (store, job name) pair.

    Raises:
        NotFoundError: a job is not in its store.
    """
    jobs: list[str] = []
    types: dict[str, ObjectiveType] = {}
    ranges: dict[str, Range] = {}
    metrics: list[str] = []
    trials, curves = [], []
    for store, name in pairs:
        spec = TuningJobSpec.model_validate(repo.get_tuning_job(store, name).spec)
        jobs.append(name)
        types[name] = spec.objective.type
        metrics.append(spec.objective.metric)
        if spec.objective.metric != metrics[0]:
            raise ModeltuneError(
                f"tuning jobs {jobs[0]!r} and {name!r} optimise different objective metrics ({metrics[0]}, "
                f"{spec.objective.metric}), which cannot share one axis; plot them separately"
            )
        for hp, r in spec.ranges.items():
            ranges[hp] = union_range(hp, ranges[hp], r) if hp in ranges else r
        trials.append(trials_dataframe(store, name))
        curves.append(curves_dataframe(store, name))
    merged = with_best_so_far(pd.concat(trials, ignore_index=True), types)
    curve_frame = pd.concat(curves, ignore_index=True)
    # Curve rows carry every brushed field so that brushing any chart highlights the curves too.
    brushed = ["TrainingStartTime", OBJECTIVE, *ranges]
    order = ["TuningJobName", "TrainingJobName", *(c for c in brushed if c not in curve_frame.columns)]
    curve_frame = curve_frame.merge(
        merged[order].drop_duplicates("TrainingJobName"), on=["TuningJobName", "TrainingJobName"], how="left"
    )
    return ReportData(
        jobs=jobs,
        objective=metrics[0],
        objective_types=types,
        axes=[Axis(hp, r) for hp, r in ranges.items()],
        trials=json_safe(merged),
        curves=json_safe(curve_frame),
    )
