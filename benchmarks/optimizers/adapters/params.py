"""Translate ranges in the spec's dict shape into plain parameters that any peer can express.

Each peer sees one parameter per range: a float or integer interval (linear or log) or a
set of string labels. ``decode`` turns the peer's raw value back into the range's value,
``encode`` goes the other way (used to pre-fill histories for the timing run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modeltune.space import SearchSpace
from modeltune.space.ranges import AUTO_LOG_RATIO


@dataclass(frozen=True)
class Param:
    """One peer parameter.

    Attributes:
        name: the hyperparameter's name.
        kind: ``"float"``, ``"int"`` or ``"cat"``.
        low, high: interval bounds (float and int kinds).
        log: sample uniformly in log space.
        labels: string labels of a categorical range, in order.
        values: the range's own values behind ``labels`` (cat) or the ordered values a
            Discrete range snaps to (float).
        reverse: ReverseLogarithmic: the peer's raw value is ``1 - x``, sampled log-uniformly.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    labels: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    reverse: bool = False

    def decode(self, raw: Any) -> Any:
        """The range's value for the peer's raw value."""
        if self.kind == "cat":
            return self.values[self.labels.index(str(raw))]
        x = min(self.high, max(self.low, float(raw)))
        if self.reverse:
            x = 1.0 - x
        if self.kind == "int":
            return int(round(x))
        if self.values:  # Discrete: snap to the nearest allowed value
            return min(self.values, key=lambda v: abs(v - x))
        return x

    def encode(self, value: Any) -> Any:
        """The peer's raw value for a value of the range."""
        if self.kind == "cat":
            return self.labels[[str(v) for v in self.values].index(str(value))]
        x = 1.0 - float(value) if self.reverse else value
        return int(x) if self.kind == "int" else float(x)


def translate(ranges: Mapping[str, Any]) -> list[Param]:
    """Peer parameters for the ranges (dicts in the spec's shape), in the ranges' order."""
    space = SearchSpace(ranges)
    params = []
    for name, r in space.ranges.items():
        if r.type == "Categorical":
            params.append(Param(name, "cat", labels=tuple(str(v) for v in r.values), values=tuple(r.values)))
            continue
        values: tuple[Any, ...] = ()
        if r.type == "Discrete":
            lo, hi, kind, values = r.values[0], r.values[-1], "float", tuple(r.values)
        else:
            lo, hi, kind = r.min, r.max, "int" if r.type == "Integer" else "float"
        scaling = _effective_scaling(r.scaling, lo, hi)
        if scaling == "ReverseLogarithmic":
            if kind == "int":
                raise ValueError(f"{name}: ReverseLogarithmic integer ranges are not supported by the peers")
            params.append(Param(name, kind, 1.0 - hi, 1.0 - lo, log=True, values=values, reverse=True))
        else:
            params.append(Param(name, kind, lo, hi, log=scaling == "Logarithmic", values=values))
    return params


def _effective_scaling(scaling: str, lo: float, hi: float) -> str:
    # The same rule as modeltune's ranges: Auto means log for wide positive ranges.
    if scaling != "Auto":
        return scaling
    return "Logarithmic" if lo > 0 and hi / lo >= AUTO_LOG_RATIO else "Linear"
