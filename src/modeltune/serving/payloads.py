"""SageMaker's default payloads: JSON, CSV and NPY bodies to NumPy arrays and back, and the Accept header.

A CSV body is one record per line (always a 2-D array); a JSON body becomes ``numpy.asarray`` of its
value; an NPY body is one array saved by ``numpy.save``. Predictions go back as JSON (``tolist()``),
CSV (one line per row) or NPY.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
SUPPORTED = (JSON, CSV, NPY)
# Bodies of these types reach input_fn and transform_fn as str, as in SageMaker's inference toolkit.
TEXT_TYPES = (JSON, CSV)
_NPY_MAGIC = b"\x93NUMPY"
_SUPPORTED_TEXT = "application/json, text/csv or application/x-npy"


class RequestError(Exception):
    """A request the server cannot answer as sent; ``status`` is the HTTP status (400, 406 or 415)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def media_type(header: str | None) -> str:
    """The bare, lower-case media type of a Content-Type header: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return (header or "").partition(";")[0].strip().lower()


def text_or_bytes(body: bytes, content_type: str) -> str | bytes:
    """``body`` as input_fn receives it: decoded UTF-8 for JSON and CSV, else bytes unchanged.

    Raises:
        RequestError: 400 when a JSON or CSV body is not UTF-8.
    """
    if media_type(content_type) not in TEXT_TYPES:
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"the {media_type(content_type)} body is not UTF-8 text: {exc}") from None


def decode(body: str | bytes, content_type: str) -> np.ndarray:
    """A request body as a NumPy array (SageMaker's default ``input_fn``).

    Raises:
        RequestError: 415 for a content type other than JSON, CSV or NPY; 400 for an empty or malformed body.
    """
    kind = media_type(content_type)
    if kind not in SUPPORTED:
        raise RequestError(415, f"unsupported content type {content_type!r}; send Content-Type {_SUPPORTED_TEXT}")
    if not body.strip():
        raise RequestError(400, "the request body is empty")
    try:
        if kind == JSON:
            return np.asarray(json.loads(body))
        if kind == CSV:
            text = body if isinstance(body, str) else body.decode("utf-8")
            return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
        data = body if isinstance(body, bytes) else body.encode()
        if not data.startswith(_NPY_MAGIC):
            raise ValueError("it does not start like a file written by numpy.save (.npy)")
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RequestError(400, f"the body is not valid {kind}: {exc}") from None


def negotiate(accept: str | None) -> str:
    """The supported media type that best matches an Accept header; missing or ``*/*`` -> JSON.

    Media ranges are tried in order of their ``q`` weight (``q=0`` excludes one); ``text/*`` gives CSV and
    ``application/*`` JSON.

    Raises:
        RequestError: 406 when the header admits none of JSON, CSV and NPY.
    """
    if not accept or not accept.strip():
        return JSON
    ranges = []
    for position, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        weight = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            ranges.append((float(weight), position, kind.lower()))
        except ValueError:
            raise RequestError(406, f"the Accept header {accept!r} has a bad q weight {weight!r}") from None
    for q, _, kind in sorted(ranges, key=lambda r: (-r[0], r[1])):
        match = _supported_match(kind)
        if q > 0 and match:
            return match
    raise RequestError(406, f"cannot answer in {accept!r}; ask for {_SUPPORTED_TEXT} in the Accept header")


def _supported_match(kind: str) -> str | None:
    if kind in SUPPORTED:
        return kind
    if kind == "*/*":
        return JSON
    if kind.endswith("/*"):
        return next((t for t in SUPPORTED if t.startswith(kind[:-1])), None)
    return None


def _builtin(value: Any) -> Any:
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} cannot be written as JSON")


def encode(prediction: Any, content_type: str) -> bytes:
    """A prediction as a JSON, CSV or NPY body (SageMaker's default ``output_fn``).

    Raises:
        RequestError: 406 when the prediction has no form in that type (CSV beyond two dimensions).
        TypeError, ValueError: the prediction cannot be encoded (e.g. arbitrary objects).
    """
    if content_type == JSON:
        return json.dumps(prediction, default=_builtin).encode()
    array = np.asarray(prediction)
    if content_type == NPY:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()
    if array.ndim > 2:
        raise RequestError(406, f"a prediction of shape {array.shape} has no CSV form; ask for application/json")
    text = io.StringIO()
    rows = array if array.ndim == 2 else array.reshape(-1, 1)
    csv.writer(text, lineterminator="\n").writerows(rows.tolist())
    return text.getvalue().encode()
