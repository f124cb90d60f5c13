"""Run the shared search as four processes on one store, then find the kept model from the best training job.

python examples/shared_study/run.py [--store postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

from sklearn.datasets import load_digits

import modeltune

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from search import RANGES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="store URL (default: $MODELTUNE_STORE or SQLite)")
    parser.add_argument("--name", default=f"svm-digits-{time.strftime('%Y%m%d-%H%M%S')}")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--trials", type=int, default=25, help="evaluations per process")
    parser.add_argument("--model-dir", default="models")
    args = parser.parse_args()

    command = [sys.executable, str(HERE / "search.py"), "--name", args.name, "--trials", str(args.trials)]
    command += ["--max-jobs", str(args.processes * args.trials), "--model-dir", args.model_dir]
    command += ["--store", args.store] if args.store else []
    workers = [subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"}) for _ in range(args.processes)]
    if any(worker.wait() != 0 for worker in workers):
        sys.exit("a search process failed")

    # Afterwards, from anywhere that reaches the store: the best training job says where its model is.
    optimizer = modeltune.Optimizer(RANGES, "Maximize", name=args.name, store=args.store, load_if_exists=True)
    best = optimizer.best
    assert best is not None and best.attributes is not None
    model = pickle.loads(Path(best.attributes["model_path"]).read_bytes())
    features, labels = load_digits(return_X_y=True)
    print(f"best {best.name}: accuracy {best.value:.4f} with {best.hyperparameters} by {best.attributes['process']}")
    print(f"its model ({best.attributes['model_path']}) scores {model.score(features, labels):.4f} on the digits")
    kept = sorted(Path(args.model_dir).glob("*/model.pkl"))
    print(f"models kept: {len(kept)} of {args.processes} processes")


if __name__ == "__main__":
    main()
