"""Optional dependencies (the package's extras): import one, or say in one sentence how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

from modeltune.errors import ModeltuneError


def require(module: str, extra: str, feature_needs: str, error: type[ModeltuneError] = ModeltuneError) -> ModuleType:
    """Import ``module`` of the extra ``extra``, or raise ``error`` naming the install command.

    Args:
        module: the module to import, e.g. ``"altair"``.
        extra: the extra that installs it, e.g. ``"viz"``.
        feature_needs: the start of the message, e.g. ``"charts need"``.
        error: the exception type to raise.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise error(
            f"{feature_needs} {module}, which is not installed; install it with pip install 'modeltune[{extra}]'"
        ) from None
