"""The inference script's handler functions, with SageMaker's defaults for those it leaves out.

An inference script (SageMaker's ``entry_point``) defines ``model_fn(model_dir)``, called once, and
either ``transform_fn(model, body, content_type, accept)`` or any of ``input_fn(body, content_type)``,
``predict_fn(data, model)`` and ``output_fn(prediction, accept)``, called per request. ``body`` is a
str for JSON and CSV and bytes otherwise; ``accept`` is ``application/json`` when the request's
Accept header is missing or ``*/*``. ``output_fn`` and ``transform_fn`` return a body (str or bytes)
or a ``(body, content_type)`` pair.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeltune.errors import ServingError
from modeltune.serving import payloads

_PER_REQUEST = ("input_fn", "predict_fn", "output_fn")


def default_input_fn(body: str | bytes, content_type: str) -> Any:
    """A JSON, CSV or NPY body as a NumPy array."""
    return payloads.decode(body, content_type)


def default_predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)``."""
    return model.predict(data)


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """The prediction as JSON, CSV or NPY, whichever the Accept header prefers."""
    content_type = payloads.negotiate(accept)
    return payloads.encode(prediction, content_type), content_type


@dataclass(frozen=True)
class Handlers:
    """The handler functions of one inference script; per-request ones it lacks are the defaults."""

    path: Path
    model_fn: Callable[[str], Any]
    input_fn: Callable[[str | bytes, str], Any] = default_input_fn
    predict_fn: Callable[[Any, Any], Any] = default_predict_fn
    output_fn: Callable[[Any, str], Any] = default_output_fn
    transform_fn: Callable[[Any, str | bytes, str, str], Any] | None = None

    def transform(self, model: Any, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        """Answer one request: the response body and its content type.

        A missing Content-Type means JSON; a missing or ``*/*`` Accept means JSON.

        Raises:
            payloads.RequestError: the request cannot be answered as sent (400, 406, 415).
            Exception: whatever the script's functions raise.
        """
        content_type = content_type or payloads.JSON
        accept = payloads.JSON if not accept or accept.strip() == "*/*" else accept
        data = payloads.text_or_bytes(body, content_type)
        if self.transform_fn is not None:
            result = self.transform_fn(model, data, content_type, accept)
        else:
            result = self.output_fn(self.predict_fn(self.input_fn(data, content_type), model), accept)
        answer, answer_type = result if isinstance(result, tuple) else (result, accept)
        if isinstance(answer, str):
            return answer.encode(), answer_type
        if isinstance(answer, bytes | bytearray):
            return bytes(answer), answer_type
        raise TypeError(
            f"{self.path.name}: the response body must be bytes or str (or a (body, content_type) pair), "
            f"not {type(answer).__name__}"
        )


@functools.cache
def load_handlers(path: Path) -> Handlers:
    """Import the inference script at ``path`` (with its folder on sys.path) and collect its handlers.

    The script is imported as a module named after its file (prefixed when a loaded module has that
    name), so its ``if __name__ == "__main__"`` block does not run. Each path is imported once per process.

    Raises:
        ServingError: the script is missing, fails to import, defines no ``model_fn``, or defines
            ``transform_fn`` together with ``input_fn``, ``predict_fn`` or ``output_fn``.
    """
    module = _import(path)
    found = {
        name: getattr(module, name) for name in ("model_fn", "transform_fn", *_PER_REQUEST) if hasattr(module, name)
    }
    if "model_fn" not in found:
        raise ServingError(
            f"the entry point {str(path)!r} defines no model_fn(model_dir) to load the model; add one, or name "
            "an inference script that does with --entry-point (entry_point= in Python)"
        )
    overlap = [name for name in _PER_REQUEST if name in found]
    if "transform_fn" in found and overlap:
        raise ServingError(
            f"the entry point {str(path)!r} defines transform_fn and {', '.join(overlap)}; transform_fn replaces "
            "them, so keep either transform_fn or input_fn/predict_fn/output_fn"
        )
    return Handlers(path=path, **found)


def _import(path: Path) -> Any:
    # Named after the file, as SageMaker imports it, unless that would replace a loaded module (code.py).
    name = path.stem if path.stem not in sys.modules else f"modeltune_entry_point_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ServingError(f"the entry point {str(path)!r} is not a Python file; name a .py script with --entry-point")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[spec.name]
        raise ServingError(f"importing the entry point {str(path)!r} failed: {type(exc).__name__}: {exc}") from None
    return module
