"""Walking a Vega-Lite spec (a dict from ``chart.to_dict()``) in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def units(node: dict[str, Any], data: Any = None) -> Iterator[tuple[dict[str, Any], Any]]:
    """Every unit spec (one with a mark) with the data it draws, inherited from its parents if needed."""
    data = node.get("data", data)
    if "mark" in node:
        yield node, data
    for key in ("vconcat", "hconcat", "layer", "concat"):
        for child in node.get(key, []):
            yield from units(child, data)


def title_of(node: dict[str, Any]) -> str:
    title = node.get("title", "")
    return title.get("text", "") if isinstance(title, dict) else title


def find(spec: dict[str, Any], predicate: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Units matching ``predicate(unit)`` with their data rows."""
    found = []
    for unit, data in units(spec):
        if predicate(unit):
            rows = spec["datasets"][data["name"]] if data and "name" in data else (data or {}).get("values", [])
            found.append((unit, rows))
    return found


def x_field(unit: dict[str, Any]) -> str | None:
    return unit.get("encoding", {}).get("x", {}).get("field")


def param_names(unit: dict[str, Any]) -> set[str]:
    return {p["name"] for p in unit.get("params", [])}
