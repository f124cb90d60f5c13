"""A training script for the Ray tests: prints the node it runs on and its loss, then sleeps when asked."""

import os
import signal
import sys
import time
from pathlib import Path

seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 0.0
model = Path(os.environ["SM_MODEL_DIR"])


def on_term(_signum, _frame):
    print("got SIGTERM, saving checkpoint", flush=True)
    (model / "checkpoint").write_text("saved at SIGTERM")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
print(f"node: {os.environ['MODELTUNE_RAY_NODE_ID']} gpus: {os.environ['SM_NUM_GPUS']}", flush=True)
print(f"code: {Path(__file__).resolve().parent} cwd: {Path.cwd()}", flush=True)
print("loss: 0.5", flush=True)
(model / "model.txt").write_text(os.environ["MODELTUNE_RAY_NODE_ID"])
deadline = time.time() + seconds
while time.time() < deadline:
    time.sleep(0.05)
print(f"finished after {seconds:g} s", flush=True)
