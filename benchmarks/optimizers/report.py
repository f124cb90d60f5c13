"""Write runs.csv, timing.csv and SUMMARY.md from the raw results in a results folder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.optimizers import stats
from benchmarks.optimizers.adapters import OPTIMIZERS, is_modeltune
from benchmarks.optimizers.problems import PROBLEMS
from benchmarks.optimizers.results import ENV_FILE, RUNS_FILE, TIMING_FILE, read_records

HERO = "modeltune-bayesian"
NOTES_FILE = "NOTES.md"
MODE_TITLES = {"seq": "sequential (batch 1)", "par4": "4 in parallel (ask 4, tell 4)"}


def _fmt(x: float) -> str:
    return "–" if pd.isna(x) else f"{x:.4g}"


def _table(df: pd.DataFrame, index_name: str) -> list[str]:
    cols = [str(c) for c in df.columns]
    lines = [f"| {index_name} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for idx, row in df.iterrows():
        lines.append(f"| {idx} | " + " | ".join(v if isinstance(v, str) else _fmt(v) for v in row) + " |")
    return lines


def _plan_lines(env: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """Which commands produced the results, and the planned runs missing from them.

    Each optimizer's plan for a problem and budget is that of the latest command that included
    them (an optimizer rerun after a change of its code replaces its earlier runs there).
    """
    invocations = sorted(env.get("invocations", []), key=lambda inv: inv["started"])
    if not invocations:
        return []
    latest = {
        (opt, plan.get("budget"), problem): inv
        for inv in invocations
        for plan in [inv.get("plan", {})]
        for opt in plan.get("optimizers", [])
        for problem in plan.get("problems", [])
    }
    done = {
        (r["problem"], r["optimizer"], r["mode"], r["seed"], r["budget"]) for r in records if r.get("status") == "ok"
    }
    missing: Counter[tuple[str, str]] = Counter()
    for (opt, budget, problem), inv in latest.items():
        plan = inv["plan"]
        seeds = plan["sklearn_seeds"] if PROBLEMS[problem].kind == "sklearn" else plan["seeds"]
        for mode in plan.get("modes", []):
            missing[(opt, mode)] += sum((problem, opt, mode, s, budget) not in done for s in range(seeds))
    lines = ["- Commands (for each optimizer, problem and budget the latest that included them):"]
    for inv in invocations:
        optimizers = sorted({o for (o, _, _), chosen in latest.items() if chosen is inv})
        if optimizers:
            lines.append(
                f"  - `{inv['command']}` (started {inv['started']}, commit {inv['commit']}, "
                f"Python {inv['python']}, {inv['cpus']} CPUs): {', '.join(optimizers)}."
            )
    # A run of modeltune alone, without the peers installed, keeps the versions the peers ran with.
    versions: dict[str, str] = {}
    for inv in invocations:
        versions.update({k: v for k, v in inv.get("versions", {}).items() if v})
    lines.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    last = invocations[-1]
    planned = sorted({p for (_, _, p) in latest})
    left_out = [p for p in PROBLEMS if p not in planned]
    if left_out:
        lines.append(f"- **Problems defined but not in any plan**: {', '.join(left_out)}.")
    for name, error in last.get("unavailable", {}).items():
        lines.append(f"- **{name} could not run**: `{error}`")
    gaps = {k: v for k, v in missing.items() if v}
    if gaps:
        listed = ", ".join(f"{o} {m}: {n}" for (o, m), n in sorted(gaps.items()))
        lines.append(f"- **Missing runs** (planned but not in the results): {listed}.")
    else:
        lines.append("- Every planned run is in the results.")
    return lines


def _problem_table(problem: str, med: pd.DataFrame) -> list[str]:
    sub = med[med["problem"] == problem]
    cells = sub.assign(cell=[f"{_fmt(b)} ({r:.3f})" for b, r in zip(sub["best"], sub["regret"])])
    cells = cells.assign(col=[f"{m} @{a}" for m, a in zip(cells["mode"], cells["at"])])
    wide = cells.pivot(index="optimizer", columns="col", values="cell").fillna("–")
    order = [f"{m} @{a}" for m in MODE_TITLES for a in stats.BUDGETS if f"{m} @{a}" in wide.columns]
    return _table(wide[order], "optimizer")


def _timing_lines(timing: list[dict[str, Any]]) -> list[str]:
    ok = pd.DataFrame([t for t in timing if t.get("status") == "ok"])
    lines = []
    if not ok.empty:
        n = ok.groupby("size")["repeat"].nunique().to_dict()
        parts = []
        for col, label in (("seconds", "wall"), ("cpu_seconds", "CPU")):
            if col in ok:
                part = ok.pivot_table(index="optimizer", columns="size", values=col, aggfunc="median")
                part.columns = [f"{c} obs, {label} (n={n[c]})" for c in part.columns]
                parts.append(part)
        lines += _table(pd.concat(parts, axis=1), "optimizer")
    for t in timing:
        if t.get("status") == "limit":
            lines.append(
                f"- {t['optimizer']} at {t['size']} observations: more than {t['cpu_limit']:.0f} CPU seconds "
                "(pre-fill included); the measurement was stopped."
            )
        elif t.get("status") != "ok":
            lines.append(f"- timing {t['optimizer']} at {t['size']} failed: `{t['error']}`")
    return lines


def _against_peers(med: pd.DataFrame, peers: list[str]) -> list[str]:
    """Per mode and budget: on how many problems modeltune Bayesian's median beats / is no worse than every peer's."""
    lines = [
        "## modeltune Bayesian against every peer",
        "",
        "Problems where modeltune Bayesian's median beats every peer's median (no peer's median is better: "
        "ties at the same best count), against the peers that ran each problem.",
        "",
        "| mode | budget | beats every peer | no peer better | problems where a peer is better |",
        "|---|---|---|---|---|",
    ]
    for mode, title in MODE_TITLES.items():
        if HERO not in set(med.loc[med["mode"] == mode, "optimizer"]):
            continue
        for at in stats.BUDGETS:
            won, compared = stats.wins(med, mode, HERO, peers, at)
            level, _ = stats.wins(med, mode, HERO, peers, at, ties=True)
            if not compared:
                continue
            behind = sorted(set(compared) - set(level))
            lines.append(
                f"| {title} | {at} | {len(won)}/{len(compared)} = {len(won) / len(compared):.0%} | "
                f"{len(level)}/{len(compared)} = {len(level) / len(compared):.0%} | {', '.join(behind) or 'none'} |"
            )
    return lines + [""]


def _right_lines(med: pd.DataFrame) -> list[str]:
    """Seeds whose best configuration is in the right categories, per categorical-interaction problem."""
    names = [n for n in PROBLEMS if PROBLEMS[n].right and n in set(med["problem"])]
    if not names:
        return []
    lines = [
        "## Right category",
        "",
        "Seeds whose best configuration (within the budget) has the categorical values of the global optimum "
        "and is better than the decoy region, out of the seeds run.",
        "",
    ]
    for name in names:
        sub = med[med["problem"] == name]
        right = ", ".join(f"{k} = {v}" for k, v in PROBLEMS[name].right.items())
        cells = sub.assign(
            cell=[f"{int(r)}/{n}" for r, n in zip(sub["right"], sub["seeds"])],
            col=[f"{m} @{a}" for m, a in zip(sub["mode"], sub["at"])],
        )
        wide = cells.pivot(index="optimizer", columns="col", values="cell").fillna("–")
        order = [f"{m} @{a}" for m in MODE_TITLES for a in stats.BUDGETS if f"{m} @{a}" in wide.columns]
        lines += [f"### {name} ({right})", ""] + _table(wide[order], "optimizer") + [""]
    return lines


def summary_markdown(out: Path) -> str:
    """The SUMMARY.md text for the results in ``out``."""
    records = list(read_records(out / RUNS_FILE))
    timing = list(read_records(out / TIMING_FILE))
    env = json.loads((out / ENV_FILE).read_text()) if (out / ENV_FILE).exists() else {}
    ok = [r for r in records if r.get("status") == "ok"]
    intro = (
        "Generated by `python -m benchmarks.optimizers.run`; raw results are in `runs.jsonl` "
        "(one line per run), `runs.csv` and `timing.jsonl` beside this file."
    )
    lines = ["# Optimizer benchmark: summary", "", intro, "", "## What ran", "", *_plan_lines(env, records)]
    lines += [f"- Completed runs: {len(ok)}; failed runs: {len(records) - len(ok)}.", ""]
    if (out / NOTES_FILE).exists():  # hand-written: what changed since the last run, and why
        lines += [(out / NOTES_FILE).read_text().strip(), ""]
    if not ok:
        return "\n".join(lines + ["No completed runs yet."]) + "\n"
    refs = stats.references(ok)
    table = stats.add_regret(stats.long_table(ok), refs)
    med = stats.medians(table)
    table.to_csv(out / "runs.csv", index=False)
    lines += [
        "## How to read it", "",
        "- Every problem is minimised. *best* is the noise-free value of the best configuration found within the "
        "first N evaluations (for noisy problems: of the configuration with the best *observed* value).",
        "- **Normalised regret** = (best - f\\*) / (f_ref - f\\*), clipped at 0. f\\* is the known global minimum "
        "(synthetic problems) or the best value any optimizer found in any run (scikit-learn problems, marked *). "
        "f_ref is the median value of uniformly random configurations (all modeltune Random evaluations). "
        "0 = optimum, 1 = no better than a typical random configuration.",
        "- Ranks: per problem, budget and mode the optimizers are ranked by their median best (1 = best, ties "
        "averaged), then averaged over the problems that every optimizer completed.",
        "- Cells in the per-problem tables: median best (median normalised regret) over seeds.", "",
    ]  # fmt: skip
    peers = sorted(o for o in med["optimizer"].unique() if o in OPTIMIZERS and not is_modeltune(o))
    for mode, title in MODE_TITLES.items():
        everywhere = stats.complete(med, mode)
        selections = [(everywhere, "every problem")]
        if set(everywhere) != set(med.loc[med["mode"] == mode, "optimizer"]):
            selections.append((None, "every optimizer, over the problems all of them ran"))
        for chosen, what in selections:
            ranks, problems = stats.average_ranks(med, mode, chosen)
            if ranks.empty:
                continue
            ranks.columns = [f"@{c}" for c in ranks.columns]
            absent = sorted(set(med.loc[med["mode"] == mode, "optimizer"]) - set(ranks.index))
            note = f" Not ranked (missing problems): {', '.join(absent)}." if absent else ""
            lines += [f"## Average rank, {title}: {what}", ""]
            lines += [f"Over {len(problems)} problems: {', '.join(problems)}.{note}", ""]
            lines += _table(ranks, "optimizer") + [""]
    lines += _against_peers(med, peers)
    lines += _right_lines(med)
    how = (
        "Hartmann-6, history pre-filled with N random points, then one timed ask(1); wall-clock seconds, "
        "and CPU seconds (what to compare when the machine was busy)."
    )
    lines += ["", "## Time per suggestion (median seconds)", "", how, ""]
    lines += _timing_lines(timing) + [""]
    runs = pd.DataFrame(ok)
    runs = runs[runs["budget"] == runs["budget"].max()]  # the short-budget runs would halve the medians
    cost = pd.concat(
        {
            f"{label}, {mode}": runs[runs["mode"] == mode].groupby("optimizer")[col].median()
            for col, label in (("optimizer_seconds", "optimizer wall s"), ("cpu_seconds", "run CPU s"))
            for mode in MODE_TITLES
        },
        axis=1,
    )
    lines += [
        "## Cost per run (medians over all problems and seeds, full-budget runs)",
        "",
        "Optimizer wall-clock seconds (ask + tell) and CPU seconds of the whole run (optimizer and evaluations).",
        "",
    ]
    lines += _table(cost, "optimizer") + ["", "## Per problem", ""]
    for name in sorted(med["problem"].unique(), key=list(PROBLEMS).index):
        p = PROBLEMS[name]
        star = "" if refs.loc[name, "optimum_known"] else "*"
        f_star, f_ref = refs.loc[name, "f_star"], refs.loc[name, "f_ref"]
        about = f"{p.description}. {p.dims} dims; f* = {f_star:.6g}, f_ref = {f_ref:.6g}."
        lines += [f"### {name}{star}", "", about, ""]
        lines += _problem_table(name, med) + [""]
    errors = Counter(r.get("error", "") for r in records if r.get("status") != "ok")
    if errors:
        lines += ["## Failed runs", ""] + [f"- {n} x `{e}`" for e, n in errors.most_common()] + [""]
    return "\n".join(lines)


def write_summary(out: Path) -> str:
    """Write SUMMARY.md (and runs.csv, timing.csv) into ``out``; returns a one-line note."""
    text = summary_markdown(out)
    (out / "SUMMARY.md").write_text(text)
    timing = list(read_records(out / TIMING_FILE))
    if timing:
        pd.DataFrame(timing).to_csv(out / "timing.csv", index=False)
    return f"wrote {out / 'SUMMARY.md'}"
