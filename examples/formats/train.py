"""A tiny trainer for the formats example: flags in, validation accuracy out.

It prints ``val_accuracy=...`` for log regexes (SageMaker's MetricDefinitions) and, when the
``cloudml-hypertune`` package is installed, reports the same value under the tag Cloud ML and
Vertex AI configs name (``val_accuracy``).
"""

import argparse
import math

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, required=True)
parser.add_argument("--optimizer", default="sgd")
parser.add_argument("--epochs", type=int, default=3)
args, _ = parser.parse_known_args()

best = 0.9 - 0.02 * (math.log10(args.learning_rate) + 2) ** 2 + (0.03 if args.optimizer == "adam" else 0.0)
try:
    import hypertune

    reporter = hypertune.HyperTune()
except ImportError:
    reporter = None
for epoch in range(1, args.epochs + 1):
    accuracy = best - 0.2 / epoch
    print(f"epoch {epoch} val_accuracy={accuracy:.4f}", flush=True)
    if reporter is not None:
        reporter.report_hyperparameter_tuning_metric("val_accuracy", accuracy, global_step=epoch)
