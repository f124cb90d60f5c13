"""RandomForest on digits, small enough to tabulate in minutes on a busy machine.

The optimizer benchmark's table (``benchmarks.optimizers.problems.rf_table``: 200 trees,
3-fold CV) takes hours to build; when it is not on disk this variant stands in: at most
``MAX_TREES`` trees and one stratified hold-out split. As there, a forest of ``k`` trees
is the first ``k`` trees of the largest forest with the same seed, so one forest per
(max_depth, min_samples_leaf, max_features) gives every ``n_estimators``. A data
``subset`` (a different half of digits and split) gives a related task for transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_TREES, MAX_DEPTH, MAX_LEAF = 30, 20, 10
FEATURES = ("sqrt", "log2")
CACHE = Path("benchmarks/results/warm_start/cache")

RANGES = {
    "n_estimators": {"type": "Integer", "min": 1, "max": MAX_TREES},
    "max_depth": {"type": "Integer", "min": 1, "max": MAX_DEPTH},
    "min_samples_leaf": {"type": "Integer", "min": 1, "max": MAX_LEAF},
    "max_features": {"type": "Categorical", "values": list(FEATURES)},
}


def _split(subset: int) -> tuple[np.ndarray, ...]:
    """Train/test arrays: subset 0 is all of digits, subset 1 a random half with another split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    if subset:
        keep = np.random.default_rng(subset).permutation(len(y))[: len(y) // 2]
        x, y = x[keep], y[keep]
    return tuple(train_test_split(x, y, test_size=1 / 3, stratify=y, random_state=subset))


def _row(split: tuple[np.ndarray, ...], depth: int, leaf: int, features: str) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier

    x_train, x_test, y_train, y_test = split
    rf = RandomForestClassifier(
        MAX_TREES, max_depth=depth, min_samples_leaf=leaf, max_features=features, random_state=0, n_jobs=1
    ).fit(x_train, y_train)
    votes = np.cumsum([tree.predict_proba(x_test) for tree in rf.estimators_], axis=0)
    return (rf.classes_[votes.argmax(axis=2)] == y_test).mean(axis=1)


def _path(subset: int) -> Path:
    return CACHE / f"rf_digits_small_{subset}.npy"


def build(subset: int) -> None:
    """Compute and store the accuracy table of one data subset (a few minutes)."""
    split = _split(subset)
    rows = [_row(split, d, m, f) for d in range(1, MAX_DEPTH + 1) for m in range(1, MAX_LEAF + 1) for f in FEATURES]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(_path(subset), np.stack(rows).reshape(MAX_DEPTH, MAX_LEAF, len(FEATURES), MAX_TREES))


@lru_cache(maxsize=2)
def _table(subset: int) -> np.ndarray:
    if not _path(subset).exists():
        build(subset)
    return np.load(_path(subset))


def error(c: Mapping[str, Any], subset: int = 0) -> float:
    """1 - hold-out accuracy of the configuration on the data subset, from the table."""
    acc = _table(subset)[
        int(c["max_depth"]) - 1,
        int(c["min_samples_leaf"]) - 1,
        FEATURES.index(str(c["max_features"])),
        int(c["n_estimators"]) - 1,
    ]
    return float(1.0 - acc)


if __name__ == "__main__":
    import sys

    build(int(sys.argv[1]))
