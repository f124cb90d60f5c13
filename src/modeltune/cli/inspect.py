"""Commands that read tuning jobs: list, describe, training jobs and their logs."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from modeltune.cli.common import JobArgument, JsonOption, StoreOption, console, open_store, print_json


def list_jobs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the tuning jobs in the store, newest first."""
    from modeltune.analytics import tuning_job_summaries
    from modeltune.cli.views import jobs_table

    summaries = tuning_job_summaries(open_store(store))
    if as_json:
        print_json([summary.as_dict() for summary in summaries])
    elif not summaries:
        console.print("No tuning jobs yet. Start one with: modeltune run SPEC_FILE")
    else:
        console.print(jobs_table(summaries))


def describe(
    job: JobArgument,
    store: StoreOption = None,
    as_json: JsonOption = False,
    output_format: Annotated[
        str | None, typer.Option("--format", help="cloudml: the job as Cloud ML's Job resource with its trials (JSON).")
    ] = None,
) -> None:
    """Show a tuning job: status, counts by training-job status, objective, best training job, timings."""
    from modeltune.analytics import describe_tuning_job
    from modeltune.cli.views import print_description

    if output_format is not None:
        from modeltune.formats import describe_foreign

        print_json(describe_foreign(output_format, open_store(store), job))
        return
    description = describe_tuning_job(open_store(store), job)
    if as_json:
        print_json(description)
    else:
        print_description(console, description)


def training_jobs(
    job: JobArgument,
    sort: Annotated[str, typer.Option(help="Order: objective (best first), number or time.")] = "number",
    limit: Annotated[int | None, typer.Option(min=0, help="Show at most this many (default: all).")] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a tuning job's training jobs with their hyperparameters, status and objective."""
    from modeltune.analytics import training_job_list, training_job_summary
    from modeltune.cli.views import training_jobs_table

    listed = training_job_list(open_store(store), job, sort, limit, offset)
    if as_json:
        print_json([training_job_summary(j, listed.spec, listed.curves[j.id]) for j in listed.jobs])
        return
    console.print(training_jobs_table(listed))
    if len(listed.jobs) < listed.total:
        shown = f"{offset + 1}-{offset + len(listed.jobs)}" if listed.jobs else "none"
        console.print(f"{shown} of {listed.total} training jobs", highlight=False)
    for j in listed.jobs:
        if j.status_reason:
            console.print(f"{j.name}: {j.status_reason}", markup=False, highlight=False)


def logs(
    job: JobArgument,
    training_job: Annotated[
        str, typer.Argument(metavar="TRAINING_JOB", help="Training job name or number.", show_default=False)
    ],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until it ends.")] = False,
    store: StoreOption = None,
) -> None:
    """Print a training job's log (stdout and stderr), wherever it ran."""
    from modeltune.analytics.logs import read_log
    from modeltune.store import repository as repo

    the_store = open_store(store)
    tuning_job = repo.get_tuning_job(the_store, job)
    record = repo.get_training_job(the_store, tuning_job, training_job)
    offset = 0
    while True:
        text, offset = read_log(the_store, record, offset)
        sys.stdout.write(text)
        sys.stdout.flush()
        if not follow or (record.status.terminal and not text):
            return
        time.sleep(0.5)
        record = repo.get_training_job(the_store, tuning_job, record.name)
