"""Commands that read tuning jobs: list, describe, training jobs and their logs."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from modeltune.cli.common import (
    JobArgument,
    JsonOption,
    StoreOption,
    console,
    local_only,
    open_store,
    print_json,
    server_client,
)


def list_jobs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the tuning jobs in the store, newest first."""
    from modeltune.analytics import tuning_job_summaries
    from modeltune.cli.views import jobs_table

    client = server_client()
    if client:
        summaries = client.list_jobs()
    else:
        summaries = [summary.as_dict() for summary in tuning_job_summaries(open_store(store))]
    if as_json:
        print_json(summaries)
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

        local_only("modeltune describe --format")
        print_json(describe_foreign(output_format, open_store(store), job))
        return
    client = server_client()
    description = client.describe(job) if client else describe_tuning_job(open_store(store), job)
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
    from modeltune.analytics.listing import TRAINING_JOB_ORDERS
    from modeltune.cli.views import training_jobs_table
    from modeltune.errors import SpecError
    from modeltune.spec import TuningJobSpec

    client = server_client()
    if client:  # the server sorts; its pages are read in full and cut here, as --limit and --offset ask
        if sort not in TRAINING_JOB_ORDERS:
            raise SpecError(f"the order must be objective, number or time, not {sort!r}")
        spec = TuningJobSpec.model_validate(client.spec(job))
        every = client.training_jobs(job, sort)
        total, summaries = len(every), every[offset : None if limit is None else offset + limit]
    else:
        listed = training_job_list(open_store(store), job, sort, limit, offset)
        spec, total = listed.spec, listed.total
        summaries = [training_job_summary(j, spec, listed.curves[j.id]) for j in listed.jobs]
    if as_json:
        print_json(summaries)
        return
    console.print(training_jobs_table(spec, summaries))
    if len(summaries) < total:
        shown = f"{offset + 1}-{offset + len(summaries)}" if summaries else "none"
        console.print(f"{shown} of {total} training jobs", highlight=False)
    for j in summaries:
        reason = j.get("FailureReason") or j.get("StatusReason")
        if reason:
            console.print(f"{j['TrainingJobName']}: {reason}", markup=False, highlight=False)


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
    from modeltune.core import TrainingJobStatus
    from modeltune.store import repository as repo

    client = server_client()
    if client:
        name = client.training_job(job, training_job)["TrainingJobName"]

        def read(offset: int) -> tuple[str, int]:
            return client.log_from(job, name, offset)

        def ended() -> bool:
            return TrainingJobStatus(client.training_job(job, name)["TrainingJobStatus"]).terminal
    else:
        the_store = open_store(store)
        tuning_job = repo.get_tuning_job(the_store, job)
        name = repo.get_training_job(the_store, tuning_job, training_job).name

        def read(offset: int) -> tuple[str, int]:
            return read_log(the_store, repo.get_training_job(the_store, tuning_job, name), offset)

        def ended() -> bool:
            return repo.get_training_job(the_store, tuning_job, name).status.terminal

    offset = 0
    while True:
        finished = not follow or ended()  # asked before reading, so the lines written before the end are read
        text, offset = read(offset)
        sys.stdout.write(text)
        sys.stdout.flush()
        if finished and (not follow or not text):
            return
        time.sleep(0.5)
