"""transform_fn answers each request alone, with its own content type."""


def model_fn(model_dir):
    return "the-model"


def transform_fn(model, body, content_type, accept):
    return f"{model}|{content_type}|{accept}|{type(body).__name__}|{body}", "text/plain"
