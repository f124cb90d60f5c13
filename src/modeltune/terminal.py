"""Rich renderings shared by the command line and the Python API: the live progress bar of a tuning job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from modeltune.analytics.progress import Progress as JobProgress


def number(value: float | None) -> str:
    """A metric value in at most 6 significant digits, or ``-`` when there is none."""
    return "-" if value is None else f"{value:.6g}"


class ProgressView:
    """A live bar: done / total, running, failed and the best objective so far."""

    def __init__(self, console: Console, name: str):
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[details]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = self._bar.add_task(name, total=None, details="starting")
        self._live = Live(Group(self._bar), console=console, refresh_per_second=4)

    def update(self, progress: JobProgress) -> None:
        """Show the latest counts."""
        best = f"best {number(progress.best_value)}" + (f" ({progress.best_name})" if progress.best_name else "")
        details = f"running {progress.running}  failed {progress.failed}  {best}"
        self._bar.update(self._task, total=progress.total, completed=progress.done, details=details)

    def __enter__(self) -> ProgressView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)
