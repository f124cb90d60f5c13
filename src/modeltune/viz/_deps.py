"""The optional plotting dependencies, with one clear sentence when they are missing."""

from __future__ import annotations

from types import ModuleType

from modeltune import extras
from modeltune.errors import ModeltuneError


class VizError(ModeltuneError):
    """A chart cannot be built or saved (missing extra, bad output path)."""


def require(module: str) -> ModuleType:
    """Import ``module`` (altair, vl_convert) or raise VizError naming the install command."""
    return extras.require(module, "viz", "charts need", VizError)
