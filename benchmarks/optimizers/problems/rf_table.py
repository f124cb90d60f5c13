"""RandomForest on digits, made exact and instant by a precomputed table.

A forest of ``k`` trees with ``random_state=0`` is the first ``k`` trees of a 200-tree
forest with the same seed (scikit-learn draws tree seeds in order), so one 200-tree
forest per (max_depth, min_samples_leaf, max_features) and fold gives the 3-fold CV
accuracy of every ``n_estimators`` from 1 to 200: 400 forests instead of 80,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from benchmarks.optimizers.problems.cache import cache_dir

MAX_TREES, MAX_DEPTH, MAX_LEAF = 200, 20, 10
FEATURES = ("sqrt", "log2")
TABLE_FILE = "rf_digits_cv3.npy"

RANGES = {
    "n_estimators": {"type": "Integer", "min": 1, "max": MAX_TREES},
    "max_depth": {"type": "Integer", "min": 1, "max": MAX_DEPTH},
    "min_samples_leaf": {"type": "Integer", "min": 1, "max": MAX_LEAF},
    "max_features": {"type": "Categorical", "values": list(FEATURES)},
}


def combos() -> list[tuple[int, int, str]]:
    """Every (max_depth, min_samples_leaf, max_features) of the table, in table order."""
    return [(d, m, f) for d in range(1, MAX_DEPTH + 1) for m in range(1, MAX_LEAF + 1) for f in FEATURES]


def combo_accuracy(depth: int, leaf: int, features: str) -> np.ndarray:
    """3-fold CV accuracy for n_estimators = 1..200 at one combination, shape ``(200,)``."""
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold

    x, y = load_digits(return_X_y=True)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(x, y)
    scores = []
    for train, test in folds:
        rf = RandomForestClassifier(
            MAX_TREES, max_depth=depth, min_samples_leaf=leaf, max_features=features, random_state=0, n_jobs=1
        ).fit(x[train], y[train])
        votes = np.cumsum([tree.predict_proba(x[test]) for tree in rf.estimators_], axis=0)
        scores.append((rf.classes_[votes.argmax(axis=2)] == y[test]).mean(axis=1))
    return np.mean(scores, axis=0)


def combo_row(depth: int, leaf: int, features: str) -> np.ndarray:
    """``combo_accuracy``, kept on disk so an interrupted table build resumes."""
    path = cache_dir() / "rf_rows" / f"{depth}_{leaf}_{features}.npy"
    if path.exists():
        return np.load(path)
    row = combo_accuracy(depth, leaf, features)
    path.parent.mkdir(exist_ok=True)
    np.save(path, row)
    return row


def table_ready() -> bool:
    """True when the table has been built."""
    return (cache_dir() / TABLE_FILE).exists()


def save_table(rows: list[np.ndarray]) -> None:
    """Store the accuracies of ``combos()``, in order."""
    np.save(cache_dir() / TABLE_FILE, np.stack(rows).reshape(MAX_DEPTH, MAX_LEAF, len(FEATURES), MAX_TREES))


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    return np.load(cache_dir() / TABLE_FILE)


def rf_error(c: Mapping[str, Any]) -> float:
    """1 - 3-fold CV accuracy of the configuration, read from the table."""
    acc = _table()[
        int(c["max_depth"]) - 1,
        int(c["min_samples_leaf"]) - 1,
        FEATURES.index(str(c["max_features"])),
        int(c["n_estimators"]) - 1,
    ]
    return float(1.0 - acc)
