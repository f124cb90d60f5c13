"""The optional plotting dependencies, with one clear sentence when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from modeltune.errors import ModeltuneError

INSTALL = "pip install 'modeltune[viz]'"


class VizError(ModeltuneError):
    """A chart cannot be built or saved (missing extra, bad output path)."""


def require(module: str) -> ModuleType:
    """Import ``module`` (altair, vl_convert) or raise VizError naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise VizError(f"charts need {module}, which is not installed; install it with {INSTALL}") from None
