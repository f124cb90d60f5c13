"""Real learning curves from scikit-learn, one value per step (in-process, single-threaded)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def digits_mlp(config: dict[str, Any], steps: int) -> np.ndarray:
    """Validation accuracy per epoch of examples/digits-epochs/train.py's MLP (partial_fit, random_state 0)."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    digits = load_digits()
    x_train, x_valid, y_train, y_valid = train_test_split(digits.data, digits.target, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    model = MLPClassifier(
        hidden_layer_sizes=(int(config["hidden-units"]),),
        alpha=float(config["alpha"]),
        learning_rate_init=float(config["learning-rate-init"]),
        batch_size=64,
        random_state=0,
    )
    curve = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(steps):
            model.partial_fit(x_train, y_train, classes=list(range(10)))
            curve.append(model.score(x_valid, y_valid))
    return np.array(curve)


TREES_PER_STEP = 4


def diabetes_hgb(config: dict[str, Any], steps: int) -> np.ndarray:
    """Validation RMSE of a HistGradientBoostingRegressor on diabetes after each ``TREES_PER_STEP`` more trees."""
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.3, random_state=0)
    model = HistGradientBoostingRegressor(
        learning_rate=float(config["learning_rate"]),
        max_leaf_nodes=int(config["max_leaf_nodes"]),
        min_samples_leaf=int(config["min_samples_leaf"]),
        early_stopping=False,
        warm_start=True,
        random_state=0,
    )
    curve = []
    for step in range(1, steps + 1):
        model.set_params(max_iter=TREES_PER_STEP * step)
        model.fit(x_train, y_train)
        curve.append(float(np.sqrt(np.mean((model.predict(x_valid) - y_valid) ** 2))))
    return np.array(curve)
