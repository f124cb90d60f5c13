"""What the server's pages and lists show of a tuning job, read with the store's aggregates (counts, best
training job, pages) so that a tuning job of 10,000 training jobs answers in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modeltune.analytics.listing import TrainingJobOrder, TuningJobSummary
from modeltune.analytics.progress import Progress
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob, TuningJob, aggregates
from modeltune.store import repository as repo


@dataclass(frozen=True)
class Overview:
    """A tuning job with its spec, progress, counts by status, best training job and its latest end."""

    job: TuningJob
    spec: TuningJobSpec
    progress: Progress
    counts: dict[str, int]
    best: TrainingJob | None
    last_ended: datetime | None

    @property
    def summary(self) -> TuningJobSummary:
        """The list entry ``modeltune list`` shows."""
        return TuningJobSummary(self.job, self.spec, self.progress)


def overview(store: Store, job: TuningJob) -> Overview:
    """Counts by status, progress and the best training job of ``job``."""
    spec = TuningJobSpec.model_validate(job.spec)
    counts = aggregates.training_job_counts(store, [job.id])[job.id]
    best = aggregates.best_training_job(store, job.id, spec.objective.type)
    progress = Progress.of(job, spec, counts, best)
    return Overview(job, spec, progress, counts.counters(), best, counts.last_ended_at)


def training_job_page(
    store: Store, job: TuningJob, spec: TuningJobSpec, order: TrainingJobOrder, offset: int, limit: int
) -> tuple[list[TrainingJob], int]:
    """One page of the tuning job's training jobs in ``order``, and how many there are in all."""
    maximize = spec.objective.type == "Maximize"
    page = repo.page_training_jobs(store, job.id, order, maximize, limit, offset)
    return page, repo.count_training_jobs(store, job.id, retries=True)
