"""Optimizer benchmark: modeltune strategies against Optuna, Hyperopt and scikit-optimize.

Run it with ``python -m benchmarks.optimizers.run``; see ``README.md`` beside this file.
"""
