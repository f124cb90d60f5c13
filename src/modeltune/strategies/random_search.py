"""Random search: independent draws, uniform in each range's scaling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from modeltune.core import Observation
from modeltune.strategies.base import Strategy

# Draws tried per suggestion before accepting that a finite space is used up.
_MAX_DRAWS = 200


class RandomStrategy(Strategy):
    """Draws each configuration at random; avoids repeats when the space is finite."""

    def suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        # Seeding by history length makes a restarted controller draw the same points.
        rng = np.random.default_rng([self.random_seed, len(history)])
        finite = self.space.size is not None
        seen: set[tuple[str, ...] | None] = {self.space.key(o.hyperparameters) for o in history} if finite else set()
        suggestions: list[dict[str, Any]] = []
        for _ in range(count):
            for _ in range(_MAX_DRAWS if finite else 1):
                candidate = self.space.sample(rng)
                key = self.space.key(candidate) if finite else None
                if key not in seen:
                    break
            else:
                break
            if finite:
                seen.add(key)
            suggestions.append(candidate)
        return suggestions
