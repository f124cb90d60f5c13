"""input_fn, predict_fn and output_fn replace the defaults."""


def model_fn(model_dir):
    return "the-model"


def input_fn(body, content_type):
    if content_type != "text/plain":
        raise ValueError(f"custom.py reads text/plain, not {content_type}")
    return [int(word) for word in body.split()]  # body is bytes for text/plain


def predict_fn(data, model):
    if sum(data) < 0:
        raise ArithmeticError(f"the sum of {data} is negative")
    return {"sum": sum(data), "model": model}


def output_fn(prediction, accept):
    return f"{prediction['sum']} by {prediction['model']} for {accept}"
