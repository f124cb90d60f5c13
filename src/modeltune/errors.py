"""Exceptions for mistakes a user can fix; each message is one sentence naming the fix."""

from __future__ import annotations


class ModeltuneError(Exception):
    """Base class: the message is shown to the user as is, without a traceback."""


class SpecError(ModeltuneError):
    """The tuning-job spec (or an argument that builds one) is invalid."""


class NotFoundError(ModeltuneError):
    """A named tuning job or training job does not exist in the store."""


class ConflictError(ModeltuneError):
    """The request clashes with what the store holds (e.g. a name already taken)."""


class StoreError(ModeltuneError):
    """The store cannot be opened or written."""


class ServingError(ModeltuneError):
    """A model cannot be served as asked (model folder, entry script, port, missing extra)."""


class InvocationError(ServingError):
    """An endpoint answered a prediction request with an error; ``status`` is the HTTP status code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class SearchEnded(ConflictError):
    """An ask/tell Optimizer can start no evaluation: its budget is spent, its space used up, or its job ended."""
