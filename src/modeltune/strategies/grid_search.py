"""Grid search: every combination of the ranges' grid values, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modeltune.core import Observation
from modeltune.strategies.base import Strategy


class GridStrategy(Strategy):
    """Walks the grid in a fixed order, skipping combinations already tried (by this job or an
    IdenticalDataAndAlgorithm parent)."""

    def suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        tried = {self.space.key(o.hyperparameters) for o in history if not o.transfer}
        suggestions: list[dict[str, Any]] = []
        for candidate in self.space.grid():
            if len(suggestions) == count:
                break
            if self.space.key(candidate) not in tried:
                suggestions.append(candidate)
        return suggestions
