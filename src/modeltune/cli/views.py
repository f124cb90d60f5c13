"""Rich renderings for the CLI: tables and the job description."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from modeltune.terminal import number

if TYPE_CHECKING:
    from modeltune.spec import TuningJobSpec
    from modeltune.store import Store


def print_best(console: Console, store: Store, name: str) -> None:
    """The final summary of a tuning job: its status and best training job."""
    from modeltune.analytics import describe_tuning_job

    description = describe_tuning_job(store, name)
    reason = description.get("StatusReason") or description.get("FailureReason")
    status = description["HyperParameterTuningJobStatus"]
    console.print(f"Tuning job [bold]{escape(name)}[/] {status}" + (f": {escape(reason)}" if reason else ""))
    _print_best_job(console, description.get("BestTrainingJob"), "Best training job")


def _print_best_job(console: Console, best: dict[str, Any] | None, label: str) -> None:
    if not best:
        console.print("No training job produced an objective value.")
        return
    metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
    console.print(
        f"{label}: [bold]{escape(best['TrainingJobName'])}[/]  {escape(metric['MetricName'])} = "
        f"[bold green]{number(metric['Value'])}[/]"
    )
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("hyperparameter")
    table.add_column("value")
    for key, value in best["TunedHyperParameters"].items():
        table.add_row(escape(key), escape(_value(value, digits=6)))
    console.print(table)
    if "ModelArtifacts" in best:
        console.print(f"  Model: {escape(best['ModelArtifacts']['S3ModelArtifacts'])}")


def print_description(console: Console, d: dict[str, Any]) -> None:
    """``modeltune describe`` as text: what the JSON holds, shortened."""
    objective = d["HyperParameterTuningJobObjective"]
    limits = d["ResourceLimits"]
    counters = d["TrainingJobStatusCounters"]
    console.print(f"[bold]{escape(d['HyperParameterTuningJobName'])}[/]  {d['HyperParameterTuningJobStatus']}")
    for label, key in (("Reason", "StatusReason"), ("Failure", "FailureReason")):
        if d.get(key):
            console.print(f"  {label}: {escape(d[key])}")
    console.print(
        f"  Strategy: {d['Strategy']}   Objective: {objective['Type']} {escape(objective['MetricName'])}   "
        f"Seed: {d['RandomSeed']}"
    )
    console.print(
        f"  Limits: {limits['MaxNumberOfTrainingJobs']} training jobs, {limits['MaxParallelTrainingJobs']} at once"
    )
    criteria = d.get("TuningJobCompletionCriteria")
    if criteria:
        console.print(f"  Completion criteria: {escape(_criteria_text(criteria))}")
    warm = d.get("WarmStartConfig")
    if warm:
        parents = ", ".join(p["HyperParameterTuningJobName"] for p in warm["ParentHyperParameterTuningJobs"])
        console.print(f"  Warm start: {warm['WarmStartType']} from {escape(parents)}")
    console.print("  Training jobs: " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    console.print(
        f"  Created: {d['CreationTime']}   Ended: {d['HyperParameterTuningEndTime'] or '-'}   "
        f"Active: {d['ElapsedSeconds']:.0f} s"
    )
    _print_best_job(console, d.get("BestTrainingJob"), "Best training job")
    if "OverallBestTrainingJob" in d:
        _print_best_job(console, d["OverallBestTrainingJob"], "Overall best (with the parents)")


def _criteria_text(criteria: dict[str, Any]) -> str:
    parts = []
    if "TargetObjectiveMetricValue" in criteria:
        parts.append(f"target {number(criteria['TargetObjectiveMetricValue'])}")
    if "BestObjectiveNotImproving" in criteria:
        count = criteria["BestObjectiveNotImproving"]["MaxNumberOfTrainingJobsNotImproving"]
        parts.append(f"best not improving for {count} training jobs")
    if criteria.get("ConvergenceDetected", {}).get("CompleteOnConvergence") == "Enabled":
        parts.append("convergence detected")
    return ", ".join(parts)


def jobs_table(summaries: Sequence[dict[str, Any]]) -> Table:
    """``modeltune list`` as a table, from the summaries' dicts (``TuningJobSummary.as_dict``, or the API's)."""
    table = Table(header_style="bold")
    for column in ("name", "status", "strategy", "objective", "done", "failed", "best", "created"):
        table.add_column(column)
    for s in summaries:
        status, objective = s["HyperParameterTuningJobStatus"], s["HyperParameterTuningJobObjective"]
        table.add_row(
            escape(s["HyperParameterTuningJobName"]),
            f"{status} (interrupted)" if s["Interrupted"] else status,
            s["Strategy"],
            f"{objective['Type']} {escape(objective['MetricName'])}",
            f"{s['TrainingJobsDone']}/{s['MaxNumberOfTrainingJobs']}",
            str(s["TrainingJobsFailed"]),
            number(s["BestObjectiveValue"]),
            s["CreationTime"][:19].replace("T", " "),
        )
    return table


def training_jobs_table(spec: TuningJobSpec, summaries: Sequence[dict[str, Any]]) -> Table:
    """``modeltune training-jobs`` as a table, from ``training_job_summary`` dicts (or the API's), with each
    job's learning curve (``ObjectiveCurve``) as a sparkline."""
    table = Table(header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column(escape(spec.objective.metric), justify="right", no_wrap=True)
    table.add_column("curve", no_wrap=True)
    for name in spec.ranges:
        table.add_column(escape(name), justify="right", min_width=min(len(name), 8))
    table.add_column("seconds", justify="right")
    for job in summaries:
        tuned = job["TunedHyperParameters"]
        hyperparameters = [escape(_value(tuned.get(n))) for n in spec.ranges]
        elapsed, final = job["TrainingElapsedTimeSeconds"], job["FinalHyperParameterTuningJobObjectiveMetric"]
        seconds = "-" if elapsed is None else f"{elapsed:.1f}"
        curve = [point["Value"] for point in job.get("ObjectiveCurve", [])]
        table.add_row(
            escape(job["TrainingJobName"]),
            job["TrainingJobStatus"],
            number(final and final["Value"]),
            sparkline(curve),
            *hyperparameters,
            seconds,
        )
    return table


def _value(value: Any, digits: int = 4) -> str:
    """A hyperparameter value for a table: floats in ``digits`` significant digits."""
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(curve: Sequence[float], width: int = 12) -> str:
    """A learning curve's values in a few characters, with its number of steps (one value: just ``1``)."""
    if len(curve) < 2:
        return str(len(curve)) if curve else ""
    values = list(curve)
    if len(values) > width:  # keep the first and last, evenly spaced in between
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    bars = "".join(_BARS[round((v - low) / span * (len(_BARS) - 1))] for v in values)
    return f"{bars} {len(curve)}"
