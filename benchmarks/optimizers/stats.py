"""Tidy tables from the raw runs: best-so-far at each budget, normalised regret, ranks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.optimizers.problems import PROBLEMS

BUDGETS = (10, 25, 50, 100)
REFERENCE_OPTIMIZER = "modeltune-random"


def long_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (run, budget) with the best noise-free value found within that budget.

    A run told exactly that budget (``--budget 10``) stands for it when there is one, since
    optimizers that plan with the budget (modeltune's initial design, SMAC's) start differently;
    otherwise the best-so-far of the longest run is read at that point. ``right`` is 1 when the
    best configuration is in the problem's right categories and beats its decoy (NaN for problems
    without them).
    """
    runs: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        if r.get("status") == "ok":
            key = (r["problem"], r["optimizer"], r["mode"], r["seed"])
            runs.setdefault(key, {})[len(r["best"])] = r
    rows = []
    for key, by_length in runs.items():
        longest = by_length[max(by_length)]
        for b in BUDGETS:
            run = by_length.get(b, longest)
            if len(run["best"]) >= b:
                decoy = PROBLEMS[key[0]].decoy if key[0] in PROBLEMS else np.inf
                right = float(run["right"][b - 1] and run["best"][b - 1] < decoy) if "right" in run else np.nan
                rows.append(dict(zip(("problem", "optimizer", "mode", "seed"), key)) | {
                    "at": b, "best": run["best"][b - 1], "right": right, "run_budget": len(run["best"]),
                })  # fmt: skip
    return pd.DataFrame(rows, columns=["problem", "optimizer", "mode", "seed", "at", "best", "right", "run_budget"])


def references(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per problem: ``f_star`` (known optimum, else best value any run found) and ``f_ref``.

    ``f_ref`` is the median noise-free value of the configurations modeltune Random
    evaluated (uniform draws in each range's scaling), or of every run's first 10
    evaluations when Random did not run.
    """
    out = {}
    for name in sorted({r["problem"] for r in records if r.get("status") == "ok"}):
        runs = [r for r in records if r["problem"] == name and r.get("status") == "ok"]
        known = PROBLEMS[name].optimum if name in PROBLEMS else None
        f_star = known if known is not None else min(min(r["true"]) for r in runs)
        random_vals = [v for r in runs if r["optimizer"] == REFERENCE_OPTIMIZER for v in r["true"]]
        f_ref = float(np.median(random_vals or [v for r in runs for v in r["true"][:10]]))
        out[name] = {"f_star": f_star, "f_ref": f_ref, "optimum_known": known is not None}
    return pd.DataFrame.from_dict(out, orient="index")


def add_regret(table: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """``regret = (best - f_star) / (f_ref - f_star)``, clipped below at 0."""
    f_star = table["problem"].map(refs["f_star"])
    f_ref = table["problem"].map(refs["f_ref"])
    return table.assign(regret=((table["best"] - f_star) / (f_ref - f_star)).clip(lower=0.0))


def medians(table: pd.DataFrame) -> pd.DataFrame:
    """Median best and regret (and seed count) per problem, optimizer, mode and budget."""
    grouped = table.groupby(["problem", "optimizer", "mode", "at"])
    return grouped.agg(
        best=("best", "median"), regret=("regret", "median"), seeds=("seed", "nunique"), right=("right", "sum")
    ).reset_index()


def average_ranks(med: pd.DataFrame, mode: str, optimizers: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Mean rank (1 = best median) per optimizer and budget, over problems every optimizer ran.

    Args:
        optimizers: rank only these (default: every optimizer with runs in this mode).

    Returns the table (optimizers x budgets) and the problems it averages over.
    """
    sub = med[med["mode"] == mode]
    if optimizers is not None:
        sub = sub[sub["optimizer"].isin(optimizers)]
    if sub.empty:
        return pd.DataFrame(), []
    names = sorted(sub["optimizer"].unique())
    counts = sub[sub["at"] == sub["at"].max()].groupby("problem")["optimizer"].nunique()
    problems = sorted(counts[counts == len(names)].index)
    if not problems:
        return pd.DataFrame(), []
    sub = sub[sub["problem"].isin(problems)].copy()
    sub["rank"] = sub.groupby(["problem", "at"])["best"].rank(method="average")
    ranks = sub.pivot_table(index="optimizer", columns="at", values="rank", aggfunc="mean")
    return ranks.sort_values(ranks.columns[-1]), problems


def complete(med: pd.DataFrame, mode: str) -> list[str]:
    """The optimizers that ran every problem of this mode."""
    sub = med[(med["mode"] == mode) & (med["at"] == med["at"].max())]
    counts = sub.groupby("optimizer")["problem"].nunique()
    return sorted(counts[counts == sub["problem"].nunique()].index)


def wins(
    med: pd.DataFrame, mode: str, hero: str, peers: list[str], at: int = 50, ties: bool = False
) -> tuple[list[str], list[str]]:
    """Problems where ``hero``'s median beats the median of every peer that ran them at ``at``
    (with ``ties``: is no worse than any, e.g. where several reach the same discrete optimum).

    Returns (problems won, problems compared).
    """
    sub = med[(med["mode"] == mode) & (med["at"] == at)]
    won, compared = [], []
    for problem, g in sub.groupby("problem"):
        values = g.set_index("optimizer")["best"]
        present = [p for p in peers if p in values]
        if hero not in values or not present:
            continue
        compared.append(str(problem))
        if all(values[hero] < values[p] or (ties and values[hero] <= values[p]) for p in present):
            won.append(str(problem))
    return won, compared
