"""amtviz-style charts of tuning jobs: ``visualize_tuning_job`` in a notebook, ``plot_report`` to a file.

Altair loads only when a chart is built, so importing this package is cheap and a missing
``viz`` extra is reported as one sentence with the install command.
"""

from __future__ import annotations

from modeltune.viz._deps import VizError
from modeltune.viz.api import plot_report, visualize_tuning_job

__all__ = ["VizError", "plot_report", "visualize_tuning_job"]
