"""SUMMARY.md from runs.csv: a table per problem and the targets, met or missed by how much."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from benchmarks.early_stopping.problems import PROBLEMS, Problem

BASELINE = "mt-bayes"
HYPERBANDS = (
    "mt-hyperband",
    "variant-hyperband-top-k",
    "variant-hyperband-one-bracket",
    "variant-hyperband-model-at-max",
    "variant-hyperband-uniform-brackets",
    "variant-hyperband-original-weights",
)
TARGET_METHODS = ("mt-bayes-auto", "variant-auto-value-at-step", "variant-auto-current-value", *HYPERBANDS)
OPTUNA_HYPERBAND = "optuna-tpe-hyperband"
NOTES = Path(__file__).resolve().parent / "analysis.md"


def write_summary(out: Path, header: list[str]) -> Path:
    """Write ``out/SUMMARY.md`` from ``out/runs.csv``; return its path."""
    runs = pd.read_csv(out / "runs.csv")
    trials = pd.read_csv(out / "trials.csv")
    runs = runs.merge(best_completed(trials), on=["problem", "method", "seed"], how="left")
    compute = runs["seconds"].sum() / 60
    lines = [
        "# Early-stopping benchmark",
        "",
        *header,
        "",
        f"Total compute of the runs: {compute:.0f} CPU-minutes.",
        "",
    ]
    for name, group in runs.groupby("problem", sort=False):
        lines += _problem_section(PROBLEMS[str(name)], group, trials[trials["problem"] == name])
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    path = out / "SUMMARY.md"
    path.write_text("\n".join(lines))
    return path


def best_completed(trials: pd.DataFrame) -> pd.DataFrame:
    """Per run, the full-length value of the best trial among those that ran to max_resource
    (how Optuna picks its best trial), as column ``best_completed``."""
    rows = []
    for (problem, method, seed), group in trials.groupby(["problem", "method", "seed"], sort=False):
        spec = PROBLEMS[str(problem)]
        full = group[group["steps"] == spec.max_resource]
        value = float("nan")
        if len(full):
            sign = -1.0 if spec.objective_type == "Maximize" else 1.0
            value = float(full["final"].iloc[int((sign * full["value"]).to_numpy().argmin())])
        rows.append({"problem": problem, "method": method, "seed": seed, "best_completed": value})
    return pd.DataFrame(rows)


def _stats(group: pd.DataFrame) -> pd.DataFrame:
    by = group.groupby("method", sort=False)
    return pd.DataFrame(
        {
            "seeds": by.size(),
            "best": by["best_true"].median(),
            "q25": by["best_true"].quantile(0.25),
            "q75": by["best_true"].quantile(0.75),
            "completed": by["best_completed"].median(),
            "reported": by["best_value"].median(),
            "tried": by["best_tried"].median(),
            "resource": by["resource"].median(),
            "makespan": by["makespan"].median(),
        }
    )


def _problem_section(problem: Problem, group: pd.DataFrame, trials: pd.DataFrame) -> list[str]:
    stats = _stats(group)
    base = stats.loc[BASELINE] if BASELINE in stats.index else None
    lines = [
        f"## {problem.name} ({problem.objective_type}, max_resource {problem.max_resource})",
        "",
        problem.description + ".",
        "",
        "| method | seeds | best final (median) | IQR | best reported | best of completed | best tried | resource "
        "| vs no-ES | makespan |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for method, row in stats.iterrows():
        fraction = f"{row.resource / base.resource:.0%}" if base is not None else "-"
        lines.append(
            f"| {method} | {row.seeds:.0f} | {row.best:.4g} | {row.q25:.4g} - {row.q75:.4g} | {row.reported:.4g} "
            f"| {row.completed:.4g} "
            f"| {row.tried:.4g} | {row.resource:.0f} | {fraction} | {row.makespan:.0f} |"
        )
    lines += ["", *_targets(problem, stats, trials), ""]
    return lines


def _gap(problem: Problem, value: float, reference: float) -> float:
    """How much worse ``value`` is than ``reference`` (negative: better; float round-off counts as 0)."""
    gap = reference - value if problem.objective_type == "Maximize" else value - reference
    return 0.0 if abs(gap) < 1e-9 * max(1.0, abs(reference)) else gap


def resource_to_reach(problem: Problem, trials: pd.DataFrame, target: float, completed_only: bool) -> float:
    """Steps run (one time unit per step) until the run's pick, the configuration with the best
    recorded value among ended trials (``completed_only``: among those that reached max_resource,
    as Optuna picks), first has a full-length value no worse than ``target``; infinite if never."""
    sign = -1.0 if problem.objective_type == "Maximize" else 1.0
    best_recorded, start, end, steps = math.inf, trials["start"], trials["end"], trials["steps"]
    for trial in trials.sort_values("end", kind="stable").itertuples():
        if completed_only and trial.steps < problem.max_resource:
            continue
        if sign * trial.value < best_recorded:
            best_recorded, pick = sign * trial.value, trial.final
            if _gap(problem, pick, target) <= 0:
                return float(((end.clip(upper=trial.end) - start).clip(lower=0)).clip(upper=steps).sum())
    return math.inf


def _median_resource_to_reach(problem: Problem, trials: pd.DataFrame, method: str, target: float) -> float:
    mine = trials[trials["method"] == method]
    optuna = method.startswith("optuna")
    return float(
        pd.Series([resource_to_reach(problem, run, target, optuna) for _, run in mine.groupby("seed")]).median()
    )


def _targets(problem: Problem, stats: pd.DataFrame, trials: pd.DataFrame) -> list[str]:
    if BASELINE not in stats.index:
        return []
    base = stats.loc[BASELINE]
    noise = max(problem.tolerance, (base.q75 - base.q25) / 2)
    lines = [f"Targets (noise = max(tolerance {problem.tolerance:.3g}, half the no-ES IQR) = {noise:.3g}):", ""]
    for method in TARGET_METHODS:
        if method not in stats.index:
            continue
        row = stats.loc[method]
        gap, fraction = _gap(problem, row.best, base.best), row.resource / base.resource
        ok = gap <= noise and fraction <= 0.5
        lines.append(
            f"- {method} vs no early stopping: {'MET' if ok else 'MISSED'}: best worse by {gap:+.3g} "
            f"(allowed {noise:.3g}), resource {fraction:.0%} (allowed 50%)"
        )
    for method in HYPERBANDS:
        if method not in stats.index or OPTUNA_HYPERBAND not in stats.index:
            continue
        ours, theirs = stats.loc[method], stats.loc[OPTUNA_HYPERBAND]
        # The same best for both: the worse of the two medians, and the steps each needs to reach it.
        target = theirs.best if _gap(problem, ours.best, theirs.best) <= 0 else ours.best
        mine = _median_resource_to_reach(problem, trials, method, target)
        other = _median_resource_to_reach(problem, trials, OPTUNA_HYPERBAND, target)
        lines.append(
            f"- {method} vs Optuna HyperbandPruner: {'MET' if mine <= other else 'MISSED'}: median resource to "
            f"reach {target:.4g} (the worse median best) {mine:.0f} vs {other:.0f}; whole runs "
            f"{ours.resource:.0f} vs {theirs.resource:.0f}, best {ours.best:.4g} vs {theirs.best:.4g}"
        )
    return lines
