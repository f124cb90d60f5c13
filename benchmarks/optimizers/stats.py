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
    """One row per (run, budget) with the best noise-free value found within that budget."""
    rows = []
    for r in records:
        if r.get("status") != "ok":
            continue
        for b in BUDGETS:
            if len(r["best"]) >= b:
                rows.append(
                    {k: r[k] for k in ("problem", "optimizer", "mode", "seed")} | {"at": b, "best": r["best"][b - 1]}
                )
    return pd.DataFrame(rows, columns=["problem", "optimizer", "mode", "seed", "at", "best"])


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
    return grouped.agg(best=("best", "median"), regret=("regret", "median"), seeds=("seed", "nunique")).reset_index()


def average_ranks(med: pd.DataFrame, mode: str) -> tuple[pd.DataFrame, list[str]]:
    """Mean rank (1 = best median) per optimizer and budget, over problems every optimizer ran.

    Returns the table (optimizers x budgets) and the problems it averages over.
    """
    sub = med[med["mode"] == mode]
    if sub.empty:
        return pd.DataFrame(), []
    optimizers = sorted(sub["optimizer"].unique())
    counts = sub[sub["at"] == sub["at"].max()].groupby("problem")["optimizer"].nunique()
    problems = sorted(counts[counts == len(optimizers)].index)
    sub = sub[sub["problem"].isin(problems)].copy()
    sub["rank"] = sub.groupby(["problem", "at"])["best"].rank(method="average")
    ranks = sub.pivot_table(index="optimizer", columns="at", values="rank", aggfunc="mean")
    return ranks.sort_values(ranks.columns[-1]), problems


def wins(
    med: pd.DataFrame, mode: str, hero: str, peers: list[str], at: int = 50, ties: bool = False
) -> tuple[list[str], list[str]]:
    """Problems (with every peer present) where ``hero``'s median beats every peer's median at ``at``
    (with ``ties``: is no worse than any, e.g. where several reach the same discrete optimum).

    Returns (problems won, problems compared).
    """
    sub = med[(med["mode"] == mode) & (med["at"] == at)]
    won, compared = [], []
    for problem, g in sub.groupby("problem"):
        values = g.set_index("optimizer")["best"]
        if hero not in values or not all(p in values for p in peers):
            continue
        compared.append(str(problem))
        if all(values[hero] < values[p] or (ties and values[hero] <= values[p]) for p in peers):
            won.append(str(problem))
    return won, compared
