"""Tuning real scikit-learn models on data sets that ship with scikit-learn.

Every evaluation is deterministic (fixed splits and ``random_state``); continuous
log-scaled inputs are rounded to 50 steps per decade and results are cached on disk,
so repeated configurations across optimizers and seeds cost nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from benchmarks.optimizers.problems import rf_table
from benchmarks.optimizers.problems.base import Problem, log_range
from benchmarks.optimizers.problems.cache import cached, round_log


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(return_X_y=True)


@cache
def _holdout(name: str) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    x, y = _data(name)
    return tuple(train_test_split(x, y, test_size=1 / 3, stratify=y, random_state=0))


def _rounded(c: Mapping[str, Any], log_names: tuple[str, ...]) -> dict[str, Any]:
    return {k: round_log(float(v)) if k in log_names else v for k, v in c.items()}


def svm_error(c: Mapping[str, Any]) -> float:
    """1 - 3-fold CV accuracy of a scaled RBF SVC on breast_cancer."""
    c = _rounded(c, ("C", "gamma"))

    def compute() -> float:
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        model = make_pipeline(StandardScaler(), SVC(C=c["C"], gamma=c["gamma"]))
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        return 1.0 - float(cross_val_score(model, *_data("breast_cancer"), cv=cv).mean())

    return cached("svm_breast_cancer", c, compute)


def hgb_logloss(c: Mapping[str, Any]) -> float:
    """Hold-out log-loss of HistGradientBoosting (30 iterations) on breast_cancer."""
    c = _rounded(c, ("learning_rate", "l2_regularization"))

    def compute() -> float:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import log_loss

        x_train, x_test, y_train, y_test = _holdout("breast_cancer")
        model = HistGradientBoostingClassifier(
            learning_rate=c["learning_rate"],
            max_leaf_nodes=int(c["max_leaf_nodes"]),
            l2_regularization=c["l2_regularization"],
            max_iter=30,
            max_bins=32,
            early_stopping=False,
            random_state=0,
        )
        return float(log_loss(y_test, model.fit(x_train, y_train).predict_proba(x_test)))

    return cached("hgb_breast_cancer", c, compute)


def mlp_error(c: Mapping[str, Any]) -> float:
    """1 - hold-out accuracy of a one-hidden-layer MLP (10 epochs) on scaled digits."""
    c = _rounded(c, ("alpha", "learning_rate_init"))

    def compute() -> float:
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x_train, x_test, y_train, y_test = _holdout("digits")
        model = make_pipeline(
            StandardScaler(),
            MLPClassifier(
                (int(c["hidden_units"]),),
                alpha=c["alpha"],
                learning_rate_init=c["learning_rate_init"],
                max_iter=10,
                random_state=0,
            ),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 10 epochs never converge, on purpose
            model.fit(x_train, y_train)
        return 1.0 - float(model.score(x_test, y_test))

    return cached("mlp_digits", c, compute)


def sgd_error(c: Mapping[str, Any]) -> float:
    """1 - 3-fold CV accuracy of a linear model trained by SGD (10 epochs) on scaled digits."""
    c = _rounded(c, ("alpha", "eta0"))

    def compute() -> float:
        from sklearn.linear_model import SGDClassifier
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(
            StandardScaler(),
            SGDClassifier(
                loss=c["loss"],
                penalty=c["penalty"],
                learning_rate=c["learning_rate"],
                alpha=c["alpha"],
                eta0=c["eta0"],
                max_iter=10,
                tol=None,
                random_state=0,
            ),
        )
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 10 epochs never converge, on purpose
            return 1.0 - float(cross_val_score(model, *_data("digits"), cv=cv).mean())

    return cached("sgd_digits", c, compute)


SKLEARN = [
    Problem(
        "rf_digits",
        "sklearn",
        rf_table.RANGES,
        rf_table.rf_error,
        None,
        0.0,
        "RandomForest on digits, 1 - 3-fold CV accuracy (exact, from a precomputed table)",
    ),
    Problem(
        "svm_breast_cancer",
        "sklearn",
        {"C": log_range(1e-3, 1e3), "gamma": log_range(1e-5, 10.0)},
        svm_error,
        None,
        0.0,
        "scaled RBF SVC on breast_cancer, 1 - 3-fold CV accuracy",
    ),
    Problem(
        "hgb_breast_cancer",
        "sklearn",
        {
            "learning_rate": log_range(1e-3, 1.0),
            "max_leaf_nodes": {"type": "Integer", "min": 2, "max": 64},
            "l2_regularization": log_range(1e-6, 10.0),
        },
        hgb_logloss,
        None,
        0.0,
        "HistGradientBoosting (30 iterations) on breast_cancer, hold-out log-loss",
    ),
    Problem(
        "mlp_digits",
        "sklearn",
        {
            "hidden_units": {"type": "Integer", "min": 8, "max": 128, "scaling": "Logarithmic"},
            "alpha": log_range(1e-6, 1.0),
            "learning_rate_init": log_range(1e-4, 0.3),
        },
        mlp_error,
        None,
        0.0,
        "MLP (1 hidden layer, 10 epochs) on scaled digits, 1 - hold-out accuracy",
    ),
    Problem(
        "sgd_digits",
        "sklearn",
        {
            "loss": {
                "type": "Categorical",
                "values": ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"],
            },
            "penalty": {"type": "Categorical", "values": ["l2", "l1", "elasticnet"]},
            "learning_rate": {"type": "Categorical", "values": ["optimal", "constant", "invscaling", "adaptive"]},
            "alpha": log_range(1e-7, 1.0),
            "eta0": log_range(1e-5, 1.0),
        },
        sgd_error,
        None,
        0.0,
        "SGDClassifier (10 epochs) on scaled digits: loss x penalty x learning-rate schedule x alpha, eta0; "
        "1 - 3-fold CV accuracy",
    ),
]
