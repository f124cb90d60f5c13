"""The digits example (``examples/digits``) as a tabulated warm-start problem.

The same data file, split, model and metric as ``examples/digits/train.py``: a
RandomForest (``random_state=0``) on ``digits.csv`` with a fixed 80/20 split
(``random_state=0``), scored by weighted F1; the loss is ``1 - F1``. Its ranges are
the example spec's. A forest of ``k`` trees is the first ``k`` trees of the
200-tree forest with the same seed, so one forest per (max-depth,
min-samples-leaf, max-features) gives every n-estimators: 400 forests tabulate
all 80,000 configurations (a few minutes). The related task for transfer is a
random half of the data with another split.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MAX_TREES, MAX_DEPTH, MAX_LEAF = 200, 20, 10
FEATURES = ("sqrt", "log2")
DATA = Path("examples/digits/data/digits.csv")
CACHE = Path("benchmarks/results/warm_start/cache")

RANGES = {
    "n-estimators": {"type": "Integer", "min": 1, "max": MAX_TREES},
    "max-depth": {"type": "Integer", "min": 1, "max": MAX_DEPTH, "scaling": "Linear"},
    "min-samples-leaf": {"type": "Integer", "min": 1, "max": MAX_LEAF},
    "max-features": {"type": "Categorical", "values": list(FEATURES)},
}


def _split(subset: int) -> tuple[np.ndarray, ...]:
    """Train/test arrays: subset 0 is the example's own split, subset 1 a random half with another split."""
    from sklearn.model_selection import train_test_split

    table = np.loadtxt(DATA, delimiter=",", skiprows=1)
    x, y = table[:, :-1], table[:, -1].astype(int)
    if subset:
        keep = np.random.default_rng(subset).permutation(len(y))[: len(y) // 2]
        x, y = x[keep], y[keep]
    return tuple(train_test_split(x, y, test_size=0.2, random_state=subset))


def _row(split: tuple[np.ndarray, ...], depth: int, leaf: int, features: str) -> np.ndarray:
    """Weighted F1 of the forests with 1..MAX_TREES trees of one configuration."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import f1_score

    x_train, x_test, y_train, y_test = split
    rf = RandomForestClassifier(
        MAX_TREES, max_depth=depth, min_samples_leaf=leaf, max_features=features, random_state=0, n_jobs=1
    ).fit(x_train, y_train)
    votes = np.cumsum([tree.predict_proba(x_test) for tree in rf.estimators_], axis=0)
    predictions = rf.classes_[votes.argmax(axis=2)]
    return np.array([f1_score(y_test, p, average="weighted") for p in predictions])


def _path(subset: int) -> Path:
    return CACHE / f"digits_example_f1_{subset}.npy"


def build(subset: int) -> None:
    """Compute and store the F1 table of one data subset."""
    split = _split(subset)
    rows = [_row(split, d, m, f) for d in range(1, MAX_DEPTH + 1) for m in range(1, MAX_LEAF + 1) for f in FEATURES]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(_path(subset), np.stack(rows).reshape(MAX_DEPTH, MAX_LEAF, len(FEATURES), MAX_TREES))


@lru_cache(maxsize=2)
def _table(subset: int) -> np.ndarray:
    if not _path(subset).exists():
        build(subset)
    return np.load(_path(subset))


def loss(c: Mapping[str, Any], subset: int = 0) -> float:
    """1 - weighted F1 of the configuration on the data subset, from the table."""
    f1 = _table(subset)[
        int(c["max-depth"]) - 1,
        int(c["min-samples-leaf"]) - 1,
        FEATURES.index(str(c["max-features"])),
        int(c["n-estimators"]) - 1,
    ]
    return float(1.0 - f1)


if __name__ == "__main__":
    import sys

    build(int(sys.argv[1]))
