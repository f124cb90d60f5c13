"""A model_fn that raises: /ping must stay 503."""


def model_fn(model_dir):
    raise RuntimeError("the weights in model.txt are corrupt")
