"""Writing charts to files: self-contained offline HTML (JavaScript inlined), PNG and SVG via vl-convert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeltune.viz._deps import VizError, require

CHART_FORMATS = (".html", ".png", ".svg")


def chart_format(path: Path | str) -> str:
    """The output format named by the file extension.

    Raises:
        VizError: the extension is not one of ``.html``, ``.png``, ``.svg``.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CHART_FORMATS:
        raise VizError(
            f"cannot write a chart to {str(path)!r}: unsupported output extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(CHART_FORMATS)}"
        )
    return suffix[1:]


def save_chart(chart: Any, path: Path | str, scale: float = 1.0) -> Path:
    """Save ``chart`` to ``path``; HTML works offline (vega, vega-lite and vega-embed are inlined).

    Args:
        chart: an Altair chart.
        path: ``.html``, ``.png`` or ``.svg``.
        scale: pixel density of PNG output (2 doubles width and height).
    """
    fmt = chart_format(path)
    require("vl_convert")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        chart.save(str(path), format="html", inline=True)
    elif fmt == "png":
        chart.save(str(path), format="png", scale_factor=scale)
    else:
        chart.save(str(path), format="svg")
    return path
