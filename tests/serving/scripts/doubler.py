"""An inference script with model_fn only: the default handlers decode, call model.predict and encode."""

import sys
from pathlib import Path


class Doubler:
    def predict(self, data):
        return data * 2


def model_fn(model_dir):
    # The toy training script saves model.txt; a wrong folder fails here.
    (Path(model_dir) / "model.txt").read_text()
    return Doubler()


if __name__ == "__main__":
    sys.exit("serving must not run the script's main block")
