"""The store-backed state of a shared ``modeltune.Optimizer``: one tuning job that many processes fill.

Every evaluation is an ordinary training job of the tuning job (``modeltune describe`` and the
analytics see it at once), owned by the process that asked for it while it runs. The process renews
its hold with the workers' heartbeat from a background thread; when it dies, the others' threads end
its evaluations Failed (lost) once the hold expires, and the search goes on.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from modeltune.controller.mirror import TrainingJobMirror
from modeltune.core import ExecutorName, MetricValue, Observation, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.errors import ConflictError, ModeltuneError, SearchEnded, SpecError
from modeltune.spec import TuningJobSpec
from modeltune.spec.loader import describe_validation_error
from modeltune.spec.models import MAX_JOBS, SearchSettings
from modeltune.stopping import StopDecision
from modeltune.store import Store, TrainingJob, TuningJob, trials, work
from modeltune.store import repository as repo
from modeltune.strategies import Strategy, make_strategy, stopping_rule_for

log = logging.getLogger(__name__)

# What ``modeltune spec`` shows as the command of an ask/tell tuning job: the evaluations run in user code.
ASK_TELL_COMMAND = ["modeltune.Optimizer"]
# How often ``wait`` looks at the tuning job's status.
_WAIT_POLL_SECONDS = 0.5


class SharedStudy:
    """One ask/tell tuning job in a store, as one process uses it (thread-safe for one thread at a time).

    Args:
        store: the store holding the job.
        job: the tuning job (its spec's executor is ``ask-tell``).
    """

    def __init__(self, store: Store, job: TuningJob):
        self.store = store
        self.job = job
        self.spec = TuningJobSpec.model_validate(job.spec)
        self.strategy: Strategy = make_strategy(
            self.spec.strategy,
            self.spec.space,
            self.spec.objective.type,
            int(self.spec.random_seed or 0),
            self.spec.max_jobs,
            **self.spec.strategy_options(),
        )
        stopping = self.spec.early_stopping
        self.rule = stopping_rule_for(self.strategy, stopping.type, stopping.min_steps, stopping.min_peers)
        self.owner = f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        # The tuning job's training jobs as this process last saw them (asks read only what changed since).
        self._known = TrainingJobMirror([], {})
        self._stop_beating = threading.Event()
        self._heart: threading.Thread | None = None

    @property
    def metric(self) -> str:
        """The objective metric's name (intermediate values are stored under it)."""
        return self.spec.objective.metric

    def start(self, count: int) -> list[TrainingJob]:
        """Start up to ``count`` evaluations owned by this process.

        Raises:
            SearchEnded: none can start (the message says why).
        """
        ended: list[str] = []
        full = self.rule is not None  # a stopping rule needs every curve: read everything

        def choose(job: TuningJob, changed: list[TrainingJob], curves: dict[int, Any]) -> list[dict[str, Any]]:
            if full:
                self._known = TrainingJobMirror(changed, curves)
            for record in changed if not full else ():
                self._known.put(record)
            if job.status != TuningJobStatus.IN_PROGRESS:
                ended.append(f"tuning job {job.name!r} has ended ({job.status}); start a new one with another name")
                return []
            left = self.spec.max_jobs - self._known.created
            if left <= 0:
                ended.append(
                    f"tuning job {job.name!r} has started all {self.spec.max_jobs} of its evaluations (max_jobs)"
                )
                return []
            chosen = self.strategy.suggest(self._known.history([]), min(count, left))
            if not chosen:
                ended.append(f"every configuration of tuning job {job.name!r} has been evaluated")
            return chosen

        known = self._known.records
        started = trials.start_evaluations(
            self.store,
            self.job.id,
            self.owner,
            choose,
            after_id=0 if full else max(known, default=0),
            unfinished=[] if full else [r.id for r in self._known.active],
            curves_of=self.metric if full else None,
        )
        for record in started:
            self._known.put(record)
        if ended and not started:
            self.complete_if_spent()
            raise SearchEnded(ended[-1])
        self._start_heartbeat()
        return started

    def finish(
        self,
        record: TrainingJob,
        status: TrainingJobStatus,
        value: float | None,
        attributes: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Record how an evaluation of this process ended.

        Raises:
            ConflictError: it was already ended without this process (marked lost after this process
                stopped renewing its hold, e.g. while it was suspended).
        """
        fields: dict[str, Any] = {"status": status, "final_objective": value, "ended_at": utcnow()}
        if attributes:
            fields["attributes"] = dict(attributes)
        if reason is not None:
            fields["status_reason"] = reason
        if not trials.finish_evaluation(self.store, self.job.id, record.id, self.owner, self.spec.max_jobs, **fields):
            current = repo.get_training_job_by_id(self.store, record.id)
            raise ConflictError(
                f"training job {record.name!r} already ended {current.status} ({current.status_reason or 'no reason'})"
                "; its result is not recorded"
            )

    def report(self, record: TrainingJob, step: float, value: float) -> StopDecision | None:
        """Store an intermediate objective value; a decision of the job's stopping rule means: stop now."""
        repo.add_metric_values(self.store, [(record.id, MetricValue(self.metric, float(value), float(step), utcnow()))])
        if self.rule is None:
            return None
        mirror = self._mirror()
        current = mirror.records.get(record.id, record)
        return self.rule.should_stop(mirror.observation(current), mirror.history([]))

    def history(self) -> list[Observation]:
        """Every evaluation of the tuning job, from every process, as strategies see them."""
        return self._mirror().history([])

    def records(self) -> list[TrainingJob]:
        """Every training job of the tuning job, in number order."""
        return repo.list_training_jobs(self.store, self.job.id)

    def complete_if_spent(self) -> None:
        """End the tuning job Completed once its budget is spent and nothing runs."""
        if self.spec.limits.max_jobs is not None and trials.complete_if_spent(
            self.store, self.job.id, self.spec.max_jobs
        ):
            log.info("tuning job %s completed", self.job.name)

    def wait(self, timeout: float | None) -> bool:
        """Wait until the tuning job has ended; True if it did within ``timeout`` seconds."""
        self._start_heartbeat()  # ends lost evaluations of other processes meanwhile
        deadline = None if timeout is None else time.monotonic() + timeout
        while not repo.get_tuning_job_by_id(self.store, self.job.id).terminal:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_WAIT_POLL_SECONDS)
        return True

    def close(self) -> None:
        """Stop the heartbeat (this process's running evaluations are then lost once their hold expires)."""
        self._stop_beating.set()
        if self._heart is not None:
            self._heart.join(timeout=10)
            self._heart = None

    def _mirror(self) -> TrainingJobMirror:
        records = self.records()
        return TrainingJobMirror(records, trials.objective_curves(self.store, self.job.id, self.metric))

    def _start_heartbeat(self) -> None:
        if self._heart is None:
            self._stop_beating.clear()
            self._heart = threading.Thread(target=self._beat, name="modeltune-heartbeat", daemon=True)
            self._heart.start()

    def _beat(self) -> None:
        """Renew this process's hold on its evaluations; end other processes' lost ones."""
        while True:
            try:
                work.heartbeat(self.store, self.owner)
                trials.renew_shared_lease(self.store, self.job.id, os.getpid(), socket.gethostname())
                if work.expire_lost(self.store, self.job.id):
                    self.complete_if_spent()
            except ModeltuneError as exc:  # an unreachable store: the next beat tries again
                log.warning("heartbeat failed: %s", exc)
            if self._stop_beating.wait(work.HEARTBEAT_SECONDS):
                return


def open_study(
    store: Store,
    name: str,
    settings: SearchSettings,
    max_jobs: int | None,
    metric: str,
    load_if_exists: bool,
) -> SharedStudy:
    """Create the ask/tell tuning job ``name``, or load it when it exists and ``load_if_exists``.

    Of several processes creating it at once, one creates it and the others load it.

    Raises:
        SpecError: the stored job's ranges, objective or strategy differ from these settings.
        ConflictError: it exists and ``load_if_exists`` is False, or it is not an ask/tell job.
    """
    spec = _spec(name, settings, max_jobs, metric)
    try:
        return SharedStudy(store, repo.create_tuning_job(store, name, spec.model_dump(mode="json")))
    except ConflictError:
        if not load_if_exists:
            raise ConflictError(
                f"a tuning job named {name!r} already exists in the store; pass load_if_exists=True to continue it "
                "or choose another name"
            ) from None
    job = repo.get_tuning_job(store, name)
    stored = TuningJobSpec.model_validate(job.spec)
    if stored.executor != ExecutorName.ASK_TELL:
        raise ConflictError(
            f"tuning job {name!r} runs the training command {' '.join(stored.training.command)!r}, not ask/tell "
            "evaluations; choose another name for the Optimizer"
        )
    difference = _difference(stored, spec, settings.random_seed is not None, max_jobs is not None)
    if difference:
        raise SpecError(
            f"tuning job {name!r} in the store has {difference}; create the Optimizer with the stored settings "
            "or choose another name"
        )
    return SharedStudy(store, job)


def _spec(name: str, settings: SearchSettings, max_jobs: int | None, metric: str) -> TuningJobSpec:
    """The tuning-job spec of an ask/tell job (a missing seed is drawn, as ``modeltune run`` does)."""
    seed = random.SystemRandom().randrange(2**31) if settings.random_seed is None else settings.random_seed
    budget = max_jobs if max_jobs is not None else MAX_JOBS
    data = {
        "name": name,
        "training": {"command": ASK_TELL_COMMAND},
        "objective": {"metric": metric, "type": settings.objective_type},
        "ranges": {k: r.model_dump(mode="json") for k, r in settings.ranges.items()},
        "strategy": settings.strategy,
        "hyperband": settings.hyperband.model_dump(mode="json") if settings.hyperband else None,
        "early_stopping": settings.early_stopping.model_dump(mode="json"),
        "limits": {"max_jobs": budget, "max_parallel_jobs": min(budget, 10_000)},
        "random_seed": seed,
        "executor": ExecutorName.ASK_TELL,
    }
    try:
        return TuningJobSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc, "Optimizer")) from None


def _difference(stored: TuningJobSpec, wanted: TuningJobSpec, seed_given: bool, max_jobs_given: bool) -> str | None:
    """What differs between the stored job and the one asked for, in a few words; None if nothing."""
    old, new = stored.model_dump(mode="json"), wanted.model_dump(mode="json")
    for range_name in sorted(set(old["ranges"]) | set(new["ranges"])):
        if range_name not in new["ranges"]:
            return f"a range {range_name!r} that is not given here"
        if range_name not in old["ranges"]:
            return f"no range {range_name!r}"
        if old["ranges"][range_name] != new["ranges"][range_name]:
            return f"other settings for range {range_name!r} ({_brief(old['ranges'][range_name])})"
    checks = [("objective", "objective"), ("strategy", "strategy"), ("hyperband", "hyperband settings")]
    checks.append(("early_stopping", "early stopping"))
    for key, words in checks:
        if old[key] != new[key]:
            return f"other {words} ({_brief(old[key])})"
    if seed_given and old["random_seed"] != new["random_seed"]:
        return f"random_seed {old['random_seed']}"
    if max_jobs_given and old["limits"]["max_jobs"] != new["limits"]["max_jobs"]:
        return f"max_jobs {old['limits']['max_jobs']}"
    return None


def _brief(value: Any) -> str:
    """A stored setting in a short form for messages (unset fields left out)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_brief(v)}" for k, v in value.items() if v is not None)
    return str(value)
