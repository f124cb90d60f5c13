"""Batch prediction without a server (SageMaker batch transform, one record per line)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from modeltune.errors import ServingError
from modeltune.serving import payloads
from modeltune.serving.handlers import Handlers, load_handlers
from modeltune.serving.locate import ModelLocation, unpacked


def predict_lines(location: ModelLocation, lines: Iterable[str], output: TextIO, content_type: str, accept: str) -> int:
    """Load the model once and write one output line per input line (a blank line stays blank).

    Each line is one request body (a CSV record, or a JSON value for JSON lines), as batch transform
    sends records with ``SplitType=Line``.

    Args:
        location: the model and its inference script.
        lines: the input lines.
        output: where the answers go, one line each.
        content_type: the records' content type (a text type: JSON or CSV).
        accept: the answers' content type (a text type).

    Returns:
        The number of lines written.

    Raises:
        ServingError: a binary content type, model_fn failing, a record that fails (with its line
            number), or an answer that spans several lines.
    """
    if payloads.NPY in (payloads.media_type(content_type), payloads.media_type(accept)):
        raise ServingError("batch predict reads and writes lines of text; use text/csv or application/json")
    handlers = load_handlers(location.entry_point)
    with unpacked(location.model_dir) as model_dir:
        try:
            model = handlers.model_fn(str(model_dir))
        except Exception as exc:
            raise ServingError(f"model_fn failed: {type(exc).__name__}: {exc}") from None
    count = 0
    for count, line in enumerate(lines, 1):
        record = line.rstrip("\r\n")
        answer = _answer(handlers, model, record, content_type, accept, count) if record.strip() else ""
        output.write(answer + "\n")
    return count


def _answer(handlers: Handlers, model: object, record: str, content_type: str, accept: str, number: int) -> str:
    try:
        body, _ = handlers.transform(model, record.encode(), content_type, accept)
        answer = body.decode("utf-8").rstrip("\n")
    except payloads.RequestError as exc:
        raise ServingError(f"line {number}: {exc}") from None
    except Exception as exc:
        raise ServingError(f"line {number}: {type(exc).__name__}: {exc}") from None
    if "\n" in answer:
        raise ServingError(
            f"line {number}: the answer spans several lines; an output_fn must answer one line per record"
        )
    return answer
