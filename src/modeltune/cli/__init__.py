"""The ``modeltune`` command line: run tuning jobs, inspect them, stop them, draw them.

The commands live in ``jobs`` (what changes a tuning job), ``inspect`` (what reads one),
``reports`` (charts and tables in files) and ``serving`` (the best model over HTTP); this module
lists them in the order ``--help`` shows. Heavy libraries load inside the commands so that
``modeltune --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from modeltune.cli import artifacts, inspect, jobs, reports, serving, web, workers
from modeltune.cli.common import errors
from modeltune.errors import ModeltuneError

app = typer.Typer(
    name="modeltune",
    help="Self-hosted automatic model tuning: run tuning jobs of your own training script, inspect them, stop them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(jobs.run)
app.command("list")(inspect.list_jobs)
app.command()(inspect.describe)
app.command("training-jobs")(inspect.training_jobs)
app.command()(inspect.logs)
app.command()(jobs.stop)
app.command()(jobs.resume)
app.command("spec")(jobs.show_spec)
app.command()(jobs.delete)
app.command()(reports.plot)
app.command()(reports.export)
app.command()(artifacts.artifacts)
app.command()(serving.deploy)
app.command()(serving.predict)
app.command()(workers.worker)
app.command()(workers.workers)
app.command()(web.serve)


def main() -> None:
    """Entry point: user mistakes end with one line on stderr and exit code 2, never a traceback.

    Usage errors (unknown command or option, missing argument) are reported by the command-line
    parser itself, with the usage hint and exit code 2.
    """
    try:
        app(prog_name="modeltune")
    except ModeltuneError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)


__all__ = ["app", "main"]
