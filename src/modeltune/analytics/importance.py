"""Which hyperparameters matter: a random forest fitted to the scored trials, then permutation or impurity importance.

scikit-learn is an optional dependency (the ``viz`` extra); it is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from modeltune.core import SCORED_TRAINING
from modeltune.errors import ModeltuneError
from modeltune.space import Range
from modeltune.spec import TuningJobSpec
from modeltune.store import Store
from modeltune.store import repository as repo

IMPORTANCE_COLUMNS = ["hyperparameter", "importance", "std", "method"]
METHODS = ("permutation", "impurity")
# Fewer scored training jobs than this give no ranking worth showing.
MIN_TRIALS = 4


def _forest_type() -> type:
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise ModeltuneError(
            "hyperparameter importance needs scikit-learn; install it with pip install 'modeltune[viz]'"
        ) from None
    return RandomForestRegressor


def _r2(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """R^2 of each row of ``predicted`` (shape (..., n)) against ``y`` (shape (n,))."""
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - np.sum((predicted - y) ** 2, axis=-1) / total


def _permutation(forest: object, x: np.ndarray, y: np.ndarray, repeats: int, seed: int) -> np.ndarray:
    """Drop in R^2 when each column is shuffled, shape (features, repeats); one predict call for speed."""
    rng = np.random.default_rng(seed)
    blocks = []
    for column in range(x.shape[1]):
        for _ in range(repeats):
            shuffled = x.copy()
            shuffled[:, column] = rng.permutation(shuffled[:, column])
            blocks.append(shuffled)
    predicted = forest.predict(np.vstack(blocks)).reshape(x.shape[1], repeats, len(y))  # type: ignore[attr-defined]
    return _r2(y, forest.predict(x)) - _r2(y, predicted)  # type: ignore[attr-defined]


def encode_trials(trials: pd.DataFrame, ranges: Mapping[str, Range]) -> pd.DataFrame:
    """Each hyperparameter as its position in [0, 1] under its range's scaling; categories become ordinals.

    Missing values (a hyperparameter another compared job did not tune) become -1.
    """

    def position(r: Range, value: object) -> float:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return -1.0
        try:
            return float(r.to_unit(value))
        except ValueError:  # a value outside the range, e.g. from a job with other ranges
            return -1.0

    columns = {name: [position(r, v) for v in trials[name]] for name, r in ranges.items() if name in trials}
    return pd.DataFrame(columns, index=trials.index)


def importance_from_trials(
    trials: pd.DataFrame,
    ranges: Mapping[str, Range],
    method: str = "permutation",
    random_state: int = 0,
) -> pd.DataFrame:
    """Rank hyperparameters by how much they explain ``FinalObjectiveValue`` in a trials table.

    Args:
        trials: rows as from ``trials_dataframe`` (one or several jobs concatenated).
        ranges: the tuned ranges, name -> range.
        method: ``"permutation"`` (mean drop in R^2 when a column is shuffled) or ``"impurity"``.
        random_state: seed of the forest and the shuffles.

    Returns:
        Columns ``hyperparameter``, ``importance`` (non-negative, summing to 1 unless all are 0),
        ``std`` and ``method``, most important first; empty with fewer than ``MIN_TRIALS`` scored rows.
    """
    if method not in METHODS:
        raise ModeltuneError(f"importance method must be one of {', '.join(METHODS)}, not {method!r}")
    scored = trials[trials["TrainingJobStatus"].isin(SCORED_TRAINING) & trials["FinalObjectiveValue"].notna()]
    features = encode_trials(scored, ranges)
    if len(scored) < MIN_TRIALS or features.empty:
        return pd.DataFrame(columns=IMPORTANCE_COLUMNS)
    y = scored["FinalObjectiveValue"].to_numpy(float)
    if np.ptp(y) == 0:
        mean, std = np.zeros(features.shape[1]), np.zeros(features.shape[1])
    else:
        x = features.to_numpy()
        forest = _forest_type()(n_estimators=100, random_state=random_state, n_jobs=1).fit(x, y)
        if method == "impurity":
            per_tree = np.array([tree.feature_importances_ for tree in forest.estimators_])
            mean, std = forest.feature_importances_, per_tree.std(axis=0)
        else:
            drops = _permutation(forest, x, y, repeats=10, seed=random_state)
            mean, std = np.clip(drops.mean(axis=1), 0.0, None), drops.std(axis=1)
    total = float(np.sum(mean))
    scale = 1.0 / total if total > 0 else 1.0
    frame = pd.DataFrame(
        {"hyperparameter": list(features.columns), "importance": mean * scale, "std": std * scale, "method": method}
    )
    return frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def hyperparameter_importance(
    store: Store, job: str, method: str = "permutation", random_state: int = 0
) -> pd.DataFrame:
    """Rank a tuning job's hyperparameters by importance for its objective (see ``importance_from_trials``).

    Raises:
        NotFoundError: no tuning job is called ``job``.
        ModeltuneError: scikit-learn is not installed, or ``method`` is unknown.
    """
    from modeltune.analytics.dataframe import trials_dataframe

    spec = TuningJobSpec.model_validate(repo.get_tuning_job(store, job).spec)
    return importance_from_trials(trials_dataframe(store, job), spec.ranges, method, random_state)
