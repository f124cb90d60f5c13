"""One seed of one problem: the parent jobs, the warm-started children and the cold starts."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.warm_start.problems import Objective, WarmProblem, get
from modeltune import Optimizer

PARENT_BUDGET = 20
CHILD_BUDGET = 20
COLD_BUDGET = 40
# Seed offsets of the parent jobs, so a parent never replays its child's Sobol design.
_PARENT_SEED = {"identical": 1000, "related": 2000, "unrelated": 3000}


def tune(
    ranges: Mapping[str, Any],
    objective: Objective,
    seed: int,
    budget: int,
    parents: Sequence[tuple[dict[str, Any], float]] = (),
    transfer: bool = False,
) -> list[tuple[dict[str, Any], float]]:
    """``budget`` sequential Bayesian evaluations of ``objective``, warm-started from ``parents``."""
    optimizer = Optimizer(ranges=ranges, objective_type="Minimize", strategy="Bayesian", random_seed=seed)
    for hp, value in parents:
        optimizer.add_parent(hp, value, transfer=transfer)
    evaluations = []
    for _ in range(budget):
        (hp,) = optimizer.ask(1)
        value = float(objective(hp))
        optimizer.tell(hp, value)
        evaluations.append((hp, value))
    return evaluations


def run_scenario(problem_name: str, scenario: str, seed: int) -> dict[str, Any]:
    """Values (in order) of every arm of one scenario: ``identical``, ``transfer`` or ``cold``."""
    problem = get(problem_name)
    started = time.process_time()
    arms: dict[str, list[float]] = {}
    if scenario == "cold":
        arms["cold"] = _values(tune(problem.ranges, problem.child, seed, COLD_BUDGET))
    elif scenario == "identical":
        parent = tune(problem.ranges, problem.child, seed + _PARENT_SEED["identical"], PARENT_BUDGET)
        arms["parent"] = _values(parent)
        arms["child"] = _values(tune(problem.ranges, problem.child, seed, CHILD_BUDGET, parent))
    elif scenario == "transfer":
        for kind in ("related", "unrelated"):
            parent = tune(problem.ranges, _objective(problem, kind), seed + _PARENT_SEED[kind], PARENT_BUDGET)
            child = tune(problem.ranges, problem.child, seed, CHILD_BUDGET, parent, transfer=True)
            arms[f"child_{kind}"] = _values(child)
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    return {
        "problem": problem_name,
        "scenario": scenario,
        "seed": seed,
        "arms": arms,
        "cpu_seconds": round(time.process_time() - started, 2),
    }


def _objective(problem: WarmProblem, kind: str) -> Objective:
    return problem.related if kind == "related" else problem.unrelated


def _values(evaluations: Sequence[tuple[dict[str, Any], float]]) -> list[float]:
    return [value for _, value in evaluations]
