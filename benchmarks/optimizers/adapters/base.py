"""The common ask/tell interface every optimizer in the benchmark is driven through."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.optimizers.adapters.params import Param, translate


class Adapter(ABC):
    """One optimizer instance for one run; it always minimises.

    Call order: ``ask(n)`` returns up to ``n`` configurations (dicts of range values);
    each must later be passed to ``tell`` exactly once, in any order. Configurations
    asked but not yet told are pending, as in a tuning job with ``n`` parallel slots.
    ``observe`` adds an outside result that was never asked (the timing run uses it to
    pre-fill a history). One adapter is used from one thread.

    Args:
        ranges: name -> range in the spec's dict shape.
        seed: seeds every random choice of the optimizer.
    """

    def __init__(self, ranges: Mapping[str, Any], seed: int):
        self.ranges = dict(ranges)
        self.seed = seed
        self.params: list[Param] = translate(ranges)

    @abstractmethod
    def ask(self, n: int) -> list[dict[str, Any]]:
        """Up to ``n`` new configurations."""

    @abstractmethod
    def tell(self, config: Mapping[str, Any], value: float) -> None:
        """The objective value (to minimise) of a configuration returned by ``ask``."""

    @abstractmethod
    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        """Add results of configurations this adapter never suggested."""

    def decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Range values for a peer's raw values keyed by name."""
        return {p.name: p.decode(raw[p.name]) for p in self.params}


class Pending:
    """Asked-but-not-told configurations with the peer's own handle for each."""

    def __init__(self) -> None:
        self._items: list[tuple[dict[str, Any], Any]] = []

    def add(self, config: dict[str, Any], handle: Any) -> None:
        """Remember ``handle`` for ``config`` until it is told."""
        self._items.append((config, handle))

    def pop(self, config: Mapping[str, Any]) -> Any:
        """The handle of ``config`` (the same object first, else an equal one)."""
        for i, (c, _) in enumerate(self._items):
            if c is config:
                return self._items.pop(i)[1]
        for i, (c, _) in enumerate(self._items):
            if c == dict(config):
                return self._items.pop(i)[1]
        raise ValueError("tell() got a configuration that was not asked, or was already told")
