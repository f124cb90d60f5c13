"""Early-stopping benchmark: resource and best objective of modeltune's early stopping and Hyperband vs Optuna.

Run it with ``python -m benchmarks.early_stopping.run``; see ``README.md`` beside this file.
"""
