"""An inference script whose model costs nothing, so that a server's own overhead shows."""

import numpy as np


class Zeros:
    def predict(self, data):
        return np.zeros(len(data), dtype=np.int64)


def model_fn(model_dir):
    return Zeros()
