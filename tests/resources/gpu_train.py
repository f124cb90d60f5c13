"""A training script that records which GPUs and CPUs it was given, and when it ran."""

import json
import os
import sys
import time
from pathlib import Path

started = time.time()
time.sleep(float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 0.5)
seen = {
    "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "sm_num_gpus": os.environ["SM_NUM_GPUS"],
    "sm_num_cpus": os.environ["SM_NUM_CPUS"],
    "training_env_gpus": json.loads(os.environ["SM_TRAINING_ENV"])["num_gpus"],
    "started": started,
    "ended": time.time(),
}
Path(os.environ["SM_MODEL_DIR"], "seen.json").write_text(json.dumps(seen))
print("loss: 1.0")
