"""One process of a shared study, as the tests start it: ``evaluate.py URL NAME STRATEGY N MAX_JOBS PAUSE [hang]``.

Prints one JSON line per evaluation just before telling it; with ``hang`` the first evaluation never ends.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import modeltune

# 800 configurations: processes that did not see each other's running evaluations would repeat points.
RANGES = {
    "x": {"type": "Integer", "min": 1, "max": 400},
    "kind": {"type": "Categorical", "values": ["a", "b"]},
}


def main() -> None:
    url, name, strategy, n, max_jobs, pause, *mode = sys.argv[1:]
    optimizer = modeltune.Optimizer(
        ranges=RANGES,
        objective_type="Minimize",
        strategy=strategy,
        random_seed=3,
        name=name,
        store=url,
        load_if_exists=True,
        max_jobs=int(max_jobs),
    )

    def objective(hyperparameters: dict[str, Any], trial: modeltune.optimizer.Trial) -> float:
        if mode == ["hang"]:
            print(json.dumps({"started": trial.name}), flush=True)
            time.sleep(600)
        time.sleep(float(pause))
        value = (hyperparameters["x"] - 200) ** 2 / 100 + (hyperparameters["kind"] == "b")
        trial.set_attribute("pid", os.getpid())
        print(json.dumps({"told": trial.name, "hyperparameters": hyperparameters, "value": value}), flush=True)
        return value

    with optimizer:
        optimizer.optimize(objective, n_trials=int(n))


if __name__ == "__main__":
    main()
