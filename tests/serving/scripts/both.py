"""transform_fn together with input_fn: the server must refuse it."""


def model_fn(model_dir):
    return None


def input_fn(body, content_type):
    return body


def transform_fn(model, body, content_type, accept):
    return body
