"""One process of a shared search: tune an SVM on scikit-learn's digits in a tuning job that other processes
fill at the same time (on other machines too, with a PostgreSQL or MySQL store).

Each process runs its share of evaluations and keeps its own best model in memory; every evaluation records
the process and where that process would keep its model as attributes. When the tuning job has ended, only
the process whose evaluation is the global best saves its model there, so the best training job's attribute
finds it afterwards (as Optuna users do on SageMaker with the trial's job name).

    python search.py --name svm-digits --trials 25 --max-jobs 100 [--store postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
from pathlib import Path
from typing import Any

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

import modeltune

RANGES = {
    "C": {"type": "Continuous", "min": 1e-3, "max": 1e3, "scaling": "Logarithmic"},
    "gamma": {"type": "Continuous", "min": 1e-5, "max": 1e-1, "scaling": "Logarithmic"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="svm-digits")
    parser.add_argument("--store", default=None, help="store URL (default: $MODELTUNE_STORE or SQLite)")
    parser.add_argument("--trials", type=int, default=25, help="evaluations this process runs")
    parser.add_argument("--max-jobs", type=int, default=100, help="evaluations of all processes together")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "models"))
    args = parser.parse_args()

    # SageMaker names each training job; elsewhere the host and process id tell processes apart.
    me = os.environ.get("TRAINING_JOB_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    features, labels = load_digits(return_X_y=True)
    model_path = Path(args.model_dir).resolve() / me / "model.pkl"  # written only if this process wins
    own_best: dict[str, Any] = {}

    def objective(hyperparameters: dict[str, Any], trial: modeltune.optimizer.Trial) -> float:
        model = SVC(C=hyperparameters["C"], gamma=hyperparameters["gamma"])
        accuracy = float(cross_val_score(model, features, labels, cv=3).mean())
        trial.set_attribute("process", me)
        trial.set_attribute("model_path", str(model_path))
        if accuracy > own_best.get("accuracy", -1.0):
            own_best.update(accuracy=accuracy, model=model.fit(features, labels), training_job=trial.name)
        return accuracy

    with modeltune.Optimizer(
        ranges=RANGES,
        objective_type="Maximize",
        strategy="Bayesian",
        name=args.name,
        store=args.store,
        load_if_exists=True,
        max_jobs=args.max_jobs,
    ) as optimizer:
        optimizer.optimize(objective, n_trials=args.trials)
        optimizer.wait()  # until every process's evaluations are told
        best = optimizer.best
    if best is not None and best.name == own_best.get("training_job"):
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model_path.write_bytes(pickle.dumps(own_best["model"]))
        print(f"{me}: global best {best.value:.4f} ({best.name}); model kept at {model_path}")
    else:
        print(f"{me}: the global best is another process's; no model kept")


if __name__ == "__main__":
    main()
