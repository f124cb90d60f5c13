"""modeltune's errors as HTTP answers: the CLI's one sentence as ``detail``, with a status that fits."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from modeltune.errors import ConflictError, ModeltuneError, NotFoundError, SpecError, StoreError
from modeltune.spec import TuningJobSpec
from modeltune.spec.documents import check_shape
from modeltune.spec.loader import describe_validation_error


class Problem(BaseModel):
    """An error: one sentence saying what is wrong and how to fix it."""

    detail: str


class FieldProblem(BaseModel):
    """One invalid field: where it is (``loc``), what is wrong (``msg``) and the kind of error."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """A request that cannot be carried out as given (FastAPI's validation-error shape)."""

    detail: list[FieldProblem]


class FieldError(SpecError):
    """A spec field is invalid; ``loc`` is its path in the request body."""

    def __init__(self, message: str, loc: list[str | int]):
        super().__init__(message)
        self.loc = loc


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not valid JSON."},
    401: {"model": Problem, "description": "No valid token was sent."},
    403: {"model": Problem, "description": "Refused (a cross-site request, or a file outside the store)."},
    404: {"model": Problem, "description": "No such tuning job or training job."},
    409: {"model": Problem, "description": "The request clashes with the tuning job's state."},
    422: {"model": ValidationProblem, "description": "Invalid input, with the field and the fix."},
    503: {"model": Problem, "description": "The store cannot be reached."},
}


def validate_spec(data: dict[str, Any], source: str = "spec") -> TuningJobSpec:
    """The spec in ``data``, validated as ``modeltune run`` does; FieldError names the field that is wrong."""
    check_shape(data, source)
    try:
        return TuningJobSpec.model_validate(data)
    except ValidationError as exc:
        loc = [p if isinstance(p, int) else str(p) for p in exc.errors()[0]["loc"]]
        if loc[:1] == ["ranges"] and len(loc) > 2:
            del loc[2]  # the range type pydantic picked (ranges.x.Continuous.min): not a field of the body
        raise FieldError(describe_validation_error(exc, source), ["body", *loc]) from None


def _status(exc: ModeltuneError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, ForbiddenError):
        return 403
    return 422


async def _modeltune_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModeltuneError)
    status = _status(exc)
    if status == 422:
        loc = exc.loc if isinstance(exc, FieldError) else ["body"]
        return JSONResponse({"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]}, status_code=422)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def install(app: FastAPI) -> None:
    """Answer every ModeltuneError with its sentence instead of a 500."""
    app.add_exception_handler(ModeltuneError, _modeltune_error)


class ForbiddenError(ModeltuneError):
    """The request reaches for something the server does not give out (e.g. a file outside the store)."""
