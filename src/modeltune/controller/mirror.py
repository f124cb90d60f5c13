"""A tuning job's training jobs as its controller knows them, and the counts it decides on.

Loaded from the store once when the controller starts and updated with every record the
controller writes or its runner reports, so no decision re-reads the training jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from modeltune.core import MetricValue, Observation, TrainingJobStatus
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo


class TrainingJobMirror:
    """The training jobs of one tuning job by id, with their objective curves.

    Args:
        records: the training jobs.
        curves: objective values as ``(step, value)`` per training job id.
    """

    def __init__(self, records: Iterable[TrainingJob], curves: dict[int, list[tuple[float, float]]]):
        self.records = {r.id: r for r in records}
        self.curves = curves
        # Observations as built last, dropped when their record or curve changes: a history of
        # thousands of training jobs is then a list of the same objects, not thousands of new ones.
        self._observations: dict[int, Observation] = {}
        # Grows whenever a record changes, so callers can tell when summaries need recomputing.
        self.version = 0

    @classmethod
    def load(cls, store: Store, tuning_job_id: int, objective: str) -> TrainingJobMirror:
        """The tuning job's training jobs and objective curves as stored."""
        records = repo.list_training_jobs(store, tuning_job_id)
        values = repo.metric_values(store, [r.id for r in records])
        curves = {tid: [(v.step, v.value) for v in vs if v.name == objective] for tid, vs in values.items()}
        return cls(records, curves)

    def put(self, record: TrainingJob) -> None:
        """Add or replace a training job's record."""
        self.records[record.id] = record
        self._observations.pop(record.id, None)
        self._changed()

    def extend_curve(self, training_job_id: int, values: Iterable[MetricValue], objective: str) -> bool:
        """Add a training job's new objective values to its curve (each point once: a runner may report again
        what the mirror loaded when the controller started); True if there were any."""
        curve = self.curves.setdefault(training_job_id, [])
        known = set(curve)
        points = [(v.step, v.value) for v in values if v.name == objective and (v.step, v.value) not in known]
        curve.extend(points)
        if points:
            self._observations.pop(training_job_id, None)
        return bool(points)

    def _changed(self) -> None:
        self.version += 1
        for name in ("active", "created", "retried", "final_failures"):
            self.__dict__.pop(name, None)

    @cached_property
    def active(self) -> list[TrainingJob]:
        """Training jobs that have not ended (Pending, InProgress, Stopping)."""
        return [r for r in self.records.values() if r.status.running]

    @cached_property
    def created(self) -> int:
        """Training jobs counted against the budget (retries are not)."""
        return sum(1 for r in self.records.values() if r.retry_of is None)

    @cached_property
    def retried(self) -> frozenset[int]:
        """Ids of training jobs that another training job retries."""
        return frozenset(r.retry_of for r in self.records.values() if r.retry_of is not None)

    @cached_property
    def final_failures(self) -> int:
        """Failed training jobs that will not be retried."""
        return sum(
            1 for r in self.records.values() if r.status == TrainingJobStatus.FAILED and r.id not in self.retried
        )

    def next_number(self) -> int:
        """The number of the next training job (retries are numbered too)."""
        return max((r.number for r in self.records.values()), default=0) + 1

    def retries_due(self, limit: int) -> list[TrainingJob]:
        """Failed training jobs whose failure was not their code's fault and that have retries left."""
        due = []
        for record in self.records.values():
            if limit == 0 or not record.retryable or record.id in self.retried:
                continue
            attempts, earlier = 1, record.retry_of
            while earlier is not None:
                attempts, earlier = attempts + 1, self.records[earlier].retry_of
            if attempts <= limit:
                due.append(record)
        return due

    def observation(self, record: TrainingJob) -> Observation:
        """A training job as strategies and stopping rules see it."""
        found = self._observations.get(record.id)
        if found is None:
            curve = tuple(self.curves.get(record.id, ()))
            status, objective = record.status, record.final_objective
            found = Observation(record.hyperparameters, status, objective, curve=curve, number=record.number)
            self._observations[record.id] = found
        return found

    def history(self, parents: list[Observation]) -> list[Observation]:
        """Every training job that counts (a retried failure does not), after the warm-start parents."""
        return parents + [self.observation(r) for r in self.records.values() if r.id not in self.retried]

    def scored_in_end_order(self) -> list[TrainingJob]:
        """Training jobs with a final objective value, in the order they ended."""
        scored = [r for r in self.records.values() if r.status.scored and r.final_objective is not None]
        return sorted(scored, key=lambda r: (r.ended_at or r.created_at, r.number))
