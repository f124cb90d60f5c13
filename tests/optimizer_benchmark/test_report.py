"""The optimizer benchmark's summary: what ran, with which versions."""

from __future__ import annotations

from typing import Any

from benchmarks.optimizers.report import _plan_lines


def _invocation(started: str, versions: dict[str, str | None]) -> dict[str, Any]:
    plan = {"problems": ["branin"], "optimizers": ["modeltune-bayesian"], "seeds": 1, "sklearn_seeds": 1}
    return {
        "started": started, "command": "run", "python": "3.11", "cpus": 2, "commit": "abc1234",
        "versions": versions, "plan": plan | {"modes": ["seq"], "budget": 10},
    }  # fmt: skip


def test_a_rerun_without_the_peers_keeps_their_versions():
    env = {
        "invocations": [
            _invocation("2026-01-01T00:00:00", {"modeltune": "0.1.0", "optuna": "5.0.0"}),
            _invocation("2026-01-02T00:00:00", {"modeltune": "0.2.0", "optuna": None}),
        ]
    }
    lines = _plan_lines(env, [])
    assert "- Versions: modeltune 0.2.0, optuna 5.0.0." in lines
