"""``python -m benchmarks.shared_optimizer.process SYSTEM SAMPLER URL STUDY N START_AT``: one process of the run.

Opens (or creates) the shared study, waits until ``START_AT`` (epoch seconds) so all processes begin
together, then runs ``N`` evaluations of a 5 ms objective with ask/tell, timing every ask. Prints one JSON
line per evaluation: the trial number, when the ask began, how long it took and when the tell ended.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

DIMENSIONS = 4
OBJECTIVE_SECONDS = 0.005
# Asks for one evaluation: its number in the study (from 1), how to tell its value, and its point.
Ask = Callable[[], tuple[int, Callable[[float], None], list[float]]]


def objective(x: list[float]) -> float:
    """A 4-d sphere around 0.3, after 5 ms of 'training'."""
    time.sleep(OBJECTIVE_SECONDS)
    return sum((v - 0.3) ** 2 for v in x)


def modeltune_loop(sampler: str, url: str, study: str) -> Ask:
    import modeltune

    ranges = {f"x{i}": {"type": "Continuous", "min": 0.0, "max": 1.0} for i in range(DIMENSIONS)}
    optimizer = modeltune.Optimizer(
        ranges, "Minimize", sampler, random_seed=0, name=study, store=url, load_if_exists=True
    )

    def ask() -> tuple[int, Callable[[float], None], list[float]]:
        trial = optimizer.ask_trial()
        return trial.number, lambda value: optimizer.tell(trial, value), [trial.hyperparameters[k] for k in ranges]

    return ask


def optuna_loop(sampler: str, url: str, study: str) -> Ask:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers: dict[str, Any] = {"TPE": optuna.samplers.TPESampler, "GP": optuna.samplers.GPSampler}
    shared = optuna.create_study(
        study_name=study,
        storage=optuna.storages.RDBStorage(url),
        sampler=samplers[sampler](),
        direction="minimize",
        load_if_exists=True,
    )

    def ask() -> tuple[int, Callable[[float], None], list[float]]:
        trial = shared.ask()
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(DIMENSIONS)]
        return trial.number + 1, lambda value: shared.tell(trial, value), x

    return ask


def main() -> None:
    system, sampler, url, study, n, start_at = sys.argv[1:]
    ask = (modeltune_loop if system == "modeltune" else optuna_loop)(sampler, url, study)
    time.sleep(max(0.0, float(start_at) - time.time()))
    for _ in range(int(n)):
        began = time.time()
        number, tell, x = ask()
        asked = time.time()
        tell(objective(x))
        print(json.dumps({"number": number, "began": began, "ask": asked - began, "ended": time.time()}), flush=True)


if __name__ == "__main__":
    main()
