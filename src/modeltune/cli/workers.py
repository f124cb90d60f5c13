"""Commands for workers: serve training jobs from the store on this machine, and list the live workers."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from modeltune.cli.common import JsonOption, StoreOption, console, open_store, print_json


def worker(
    slots: Annotated[int, typer.Option(min=1, help="Training jobs this worker runs at once.")] = 1,
    job: Annotated[
        str | None, typer.Option("--job", help="Serve only this tuning job (default: every tuning job run by workers).")
    ] = None,
    max_idle: Annotated[
        float | None, typer.Option(min=0, help="Exit after this many seconds without a training job to run.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Run training jobs of tuning jobs started with '--executor workers', on this machine, until stopped.

    Start as many as you like, on any machine that reaches the store and has the training code's
    packages; the code itself comes from the store. Ctrl-C gives the running training jobs back
    (they are retried elsewhere).
    """
    from modeltune.workers.worker import Worker, install_stop_handlers

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = Worker(open_store(store), slots=slots, tuning_job=job, max_idle=max_idle)
    install_stop_handlers(server)
    server.run()


def workers(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the live workers: host, slots, training jobs running, last heartbeat."""
    from rich.table import Table

    from modeltune.store import work

    found = [w for w in work.list_workers(open_store(store)) if w.alive]
    if as_json:
        print_json(
            [
                {
                    "WorkerId": w.id,
                    "Host": w.host,
                    "Pid": w.pid,
                    "Slots": w.slots,
                    "Running": w.running,
                    "TuningJob": w.tuning_job,
                    "LastHeartbeat": w.heartbeat_at.isoformat(timespec="seconds") + "Z",
                }
                for w in found
            ]
        )
        return
    if not found:
        console.print("No live workers. Start one with: modeltune worker --store URL")
        return
    table = Table(header_style="bold")
    for column in ("worker", "host", "slots", "running", "tuning job", "last heartbeat"):
        table.add_column(column)
    for w in found:
        beat = w.heartbeat_at.strftime("%H:%M:%S")
        table.add_row(w.id, w.host, str(w.slots), str(w.running), w.tuning_job or "any", beat)
    console.print(table)
