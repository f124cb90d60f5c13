"""Train a RandomForest on scikit-learn's handwritten digits (SageMaker script mode).

Runs the same under SageMaker and under modeltune: hyperparameters arrive as
``--name value`` arguments, the data folder as ``SM_CHANNEL_TRAIN`` and the
model folder as ``SM_MODEL_DIR``. It prints ``pre: 0.970 rec: 0.969 f1: 0.969``,
which the tuning job's metric regexes read. ``model_fn`` loads the saved model for
``modeltune deploy`` and ``modeltune predict`` (as a SageMaker endpoint would).

    python train.py --train data/ --model-dir /tmp/model --n-estimators 100
"""

import argparse
import os
from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import train_test_split


def fit(train_dir, n_estimators, max_depth, min_samples_leaf, max_features, min_weight_fraction_leaf):
    digits = pd.read_csv(Path(train_dir) / "digits.csv")
    # Plain arrays (no column names), so that the served model takes rows without a header.
    features, labels = digits.iloc[:, :-1].to_numpy(), digits.iloc[:, -1].to_numpy()
    # A fixed split makes training jobs with the same hyperparameters comparable.
    Xtrain, Xtest, ytrain, ytest = train_test_split(features, labels, test_size=0.2, random_state=0)
    m = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        min_weight_fraction_leaf=min_weight_fraction_leaf,
        random_state=0,
    )
    m.fit(Xtrain, ytrain)
    predicted = m.predict(Xtest)
    pre, rec, f1, _ = precision_recall_fscore_support(ytest, predicted, pos_label=1, average="weighted")
    print(f"pre: {pre:5.3f} rec: {rec:5.3f} f1: {f1:5.3}")
    return m


def model_fn(model_dir):
    """Load the model this script saved (SageMaker's inference handler)."""
    return joblib.load(Path(model_dir) / "model.joblib")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=10)
    parser.add_argument("--min-samples-leaf", type=int, default=1)
    parser.add_argument("--max-features", type=str, default="sqrt")
    parser.add_argument("--min-weight-fraction-leaf", type=float, default=0.0)
    parser.add_argument("--model-dir", type=str, default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN", "data"))
    args, _ = parser.parse_known_args()
    model = fit(
        args.train,
        args.n_estimators,
        args.max_depth,
        args.min_samples_leaf,
        args.max_features,
        args.min_weight_fraction_leaf,
    )
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, Path(args.model_dir) / "model.joblib")
