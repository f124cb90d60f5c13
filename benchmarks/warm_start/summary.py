"""SUMMARY.md from the runs: medians over seeds of the best value found, per problem and arm."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from benchmarks.warm_start.runner import CHILD_BUDGET, PARENT_BUDGET

CHECKPOINTS = (5, 10, 20)
# A child that never beats its parent's best counts as this many evaluations.
_NEVER = CHILD_BUDGET + 1


def _by_problem(records: Iterable[dict[str, Any]]) -> dict[str, dict[int, dict[str, list[float]]]]:
    """problem -> seed -> arm -> values, keeping only seeds with all three scenarios."""
    table: dict[str, dict[int, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(dict))
    scenarios: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in records:
        table[r["problem"]][r["seed"]].update(r["arms"])
        scenarios[r["problem"], r["seed"]].add(r["scenario"])
    complete = {"cold", "identical", "transfer"}
    return {
        p: {s: arms for s, arms in seeds.items() if scenarios[p, s] == complete}
        for p, seeds in table.items()
        if any(scenarios[p, s] == complete for s in seeds)
    }


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _best(values: list[float], n: int) -> float:
    return float(min(values[:n]))


def _evals_to_beat(parent: list[float], child: list[float]) -> int:
    target = min(parent)
    return next((i + 1 for i, v in enumerate(child) if v < target), _NEVER)


def identical_table(data: dict[str, dict[int, dict[str, list[float]]]]) -> list[str]:
    """Rows of the IdenticalDataAndAlgorithm table."""
    lines = [
        f"| problem | seeds | parent best ({PARENT_BUDGET}) | cold-20 | cold-40 | child own best (20) | "
        "overall best, parent + child (40) | overall <= cold-40 (seeds) | evals to beat parent (median) | "
        "beat parent within 5 (seeds) | reach parent's best (<=) within 5 (seeds) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for problem, seeds in data.items():
        parent = [_best(a["parent"], PARENT_BUDGET) for a in seeds.values()]
        cold20 = [_best(a["cold"], 20) for a in seeds.values()]
        cold40 = [_best(a["cold"], 40) for a in seeds.values()]
        child = [_best(a["child"], CHILD_BUDGET) for a in seeds.values()]
        overall = [min(p, c) for p, c in zip(parent, child, strict=True)]
        beat = [_evals_to_beat(a["parent"], a["child"]) for a in seeds.values()]
        reach = sum(min(a["child"][:5]) <= min(a["parent"]) for a in seeds.values())
        wins = sum(o <= c for o, c in zip(overall, cold40, strict=True))
        median_beat = np.median(beat)
        lines.append(
            f"| {problem} | {len(seeds)} | {_fmt(np.median(parent))} | {_fmt(np.median(cold20))} | "
            f"{_fmt(np.median(cold40))} | {_fmt(np.median(child))} | {_fmt(np.median(overall))} | "
            f"{wins}/{len(seeds)} | {'>20' if median_beat > CHILD_BUDGET else _fmt(median_beat)} | "
            f"{sum(b <= 5 for b in beat)}/{len(seeds)} | {reach}/{len(seeds)} |"
        )
    return lines


def transfer_table(data: dict[str, dict[int, dict[str, list[float]]]]) -> list[str]:
    """Rows of the TransferLearning table: median best after 5, 10 and 20 evaluations."""
    head = " | ".join(f"{arm} @{n}" for arm in ("cold", "related", "unrelated") for n in CHECKPOINTS)
    lines = [
        f"| problem | seeds | {head} | related < cold @10 / @20 (seeds) | unrelated - cold @10 / @20 "
        "(median paired) | cold IQR @10 / @20 (noise) |",
        "|---|---|" + "---|" * (3 * len(CHECKPOINTS)) + "---|---|---|",
    ]
    for problem, seeds in data.items():
        arms = list(seeds.values())
        best = {
            (arm, n): np.array([_best(a[key], n) for a in arms])
            for arm, key in (("cold", "cold"), ("related", "child_related"), ("unrelated", "child_unrelated"))
            for n in CHECKPOINTS
        }
        cells = [_fmt(np.median(best[arm, n])) for arm in ("cold", "related", "unrelated") for n in CHECKPOINTS]
        wins = [int((best["related", n] < best["cold", n]).sum()) for n in (10, 20)]
        diff = [np.median(best["unrelated", n] - best["cold", n]) for n in (10, 20)]
        iqr = [np.subtract(*np.percentile(best["cold", n], [75, 25])) for n in (10, 20)]
        lines.append(
            f"| {problem} | {len(arms)} | {' | '.join(cells)} | {wins[0]}/{len(arms)} / {wins[1]}/{len(arms)} | "
            f"{_fmt(diff[0])} / {_fmt(diff[1])} | {_fmt(iqr[0])} / {_fmt(iqr[1])} |"
        )
    return lines


def summary(records: list[dict[str, Any]], descriptions: dict[str, str], header: list[str]) -> str:
    """The whole SUMMARY.md text."""
    data = _by_problem(records)
    cpu = sum(r.get("cpu_seconds", 0.0) for r in records)
    lines = [
        "# Warm-start benchmark",
        "",
        *header,
        "",
        f"Runs recorded: {len(records)} (problem, scenario, seed) triples, {cpu:.0f} CPU seconds in total. "
        "All values are losses (lower is better); every cell is a median over seeds.",
        "",
        "## Problems",
        "",
        *(f"- **{name}**: {text}" for name, text in descriptions.items() if name in data),
        "",
        "## IdenticalDataAndAlgorithm",
        "",
        f"A parent job of {PARENT_BUDGET} evaluations, then a child of {CHILD_BUDGET} that sees the parent's jobs "
        "as its own data, against cold jobs of 20 and 40 with the child's seed (cold-20 is the first half of "
        "cold-40). 'Overall best' is what the child tuning job reports (its best training job, parents "
        "included), for the same 40 evaluations as cold-40. Targets: overall best matches or beats cold-40; "
        "the child beats its parent's best within 5 evaluations on most problems.",
        "",
        *identical_table(data),
        "",
        "## TransferLearning",
        "",
        f"A parent of {PARENT_BUDGET} evaluations on a related problem (optimum shifted, or another data subset) "
        "and one on an unrelated problem (the child's objective negated: its best configurations are the "
        "child's worst), each followed by a child of 20 with the cold job's seed. Targets: the related child "
        "beats the cold start at 10 and 20 evaluations; the unrelated child is no worse than cold by more than "
        "the noise (the seed-to-seed spread of the cold start, shown as its interquartile range).",
        "",
        *transfer_table(data),
        "",
    ]
    return "\n".join(lines)
