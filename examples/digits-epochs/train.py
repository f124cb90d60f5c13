"""Train a small neural network on scikit-learn's digits, one epoch at a time.

Prints the validation accuracy after every epoch, e.g. ``epoch 3 valid-accuracy: 0.9417``,
so modeltune sees a learning curve and can stop poor training jobs early
(``early_stopping: Auto`` or ``strategy: Hyperband``). Saves a checkpoint on SIGTERM.

    python train.py --epochs 27 --hidden-units 64 --alpha 0.0001 --learning-rate-init 0.001
"""

import argparse
import os
import pickle
import signal
import sys
import warnings
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=27)
parser.add_argument("--hidden-units", type=int, default=64)
parser.add_argument("--alpha", type=float, default=1e-4)
parser.add_argument("--learning-rate-init", type=float, default=1e-3)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
args, _ = parser.parse_known_args()

digits = load_digits()
X_train, X_valid, y_train, y_valid = train_test_split(digits.data, digits.target, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_valid = scaler.transform(X_train), scaler.transform(X_valid)
model = MLPClassifier(
    hidden_layer_sizes=(args.hidden_units,),
    alpha=args.alpha,
    learning_rate_init=args.learning_rate_init,
    batch_size=args.batch_size,
    random_state=0,
)


def save(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "model.pkl", "wb") as handle:
        pickle.dump({"scaler": scaler, "model": model}, handle)


def on_stop(_signum, _frame):
    save(Path(args.model_dir))
    print("stopped: checkpoint saved", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, on_stop)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
for epoch in range(1, args.epochs + 1):
    model.partial_fit(X_train, y_train, classes=list(range(10)))
    print(f"epoch {epoch} valid-accuracy: {model.score(X_valid, y_valid):.4f}", flush=True)
save(Path(args.model_dir))
