"""``python -m benchmarks.throughput.optuna_probe STORAGE STUDY TRIALS``: one Optuna process of the peer run.

Each trial starts the same one-liner as modeltune's training jobs and reads its value; the time spent
in RDBStorage's methods is measured and written to ``$THROUGHPUT_PROBE_OUT``.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.throughput import probe

ONE_LINER = "import sys; print('loss:', sys.argv[-1])"


def main() -> None:
    import optuna
    from optuna.storages import RDBStorage

    for name in [n for n in vars(RDBStorage) if not n.startswith("_") and callable(getattr(RDBStorage, n))]:
        setattr(RDBStorage, name, probe.timed(getattr(RDBStorage, name)))
    probe.count_round_trips()
    probe.dump_at_exit()
    storage_url, study_name, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=RDBStorage(storage_url))

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        out = subprocess.run([sys.executable, "-c", ONE_LINER, "-x", str(x)], capture_output=True, text=True)
        return float(out.stdout.split()[-1])

    study.optimize(objective, n_trials=trials)


if __name__ == "__main__":
    main()
