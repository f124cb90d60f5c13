"""A model_fn that takes a while: /ping answers 503 until it returns."""

import time


def model_fn(model_dir):
    time.sleep(2)
    return None


def transform_fn(model, body, content_type, accept):
    return "ready"
