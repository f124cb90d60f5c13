"""``modeltune.report``: metric values from training code, without log parsing."""

from __future__ import annotations

import json
import os
import sys
import time

METRICS_FILE_VARIABLE = "MODELTUNE_METRICS_FILE"
# Its name in the training job's folder.
METRICS_FILE = "metrics.jsonl"


def report(step: float | None = None, **metrics: float) -> None:
    """Report metric values of the running training job, e.g. ``report(val_acc=0.93, step=epoch)``.

    Each call appends one JSON line per metric to the file named by
    ``$MODELTUNE_METRICS_FILE``, which modeltune sets for every training job.
    Outside a tuning job the values are printed to stderr instead, so the same
    script runs on its own.

    Args:
        step: the step (e.g. epoch) of these values; when None, each metric's
            values are numbered 1, 2, 3, ...
        **metrics: metric name -> number. NaN and infinities are reported too: a
            training job whose last objective value is not finite fails, and other
            non-finite values are left out of its curves.

    Raises:
        ValueError: if a value is not a number.
    """
    now = time.time()
    lines = [
        json.dumps({"name": name, "value": float(value), "step": step, "timestamp": now})
        for name, value in metrics.items()
    ]
    path = os.environ.get(METRICS_FILE_VARIABLE)
    if not path:
        print(" ".join(f"{n}={float(v):g}" for n, v in metrics.items()), file=sys.stderr)
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
