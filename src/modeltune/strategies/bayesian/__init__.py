"""Gaussian-process Bayesian optimisation (the default strategy)."""

from __future__ import annotations

from modeltune.strategies.bayesian.strategy import BayesianStrategy

__all__ = ["BayesianStrategy"]
