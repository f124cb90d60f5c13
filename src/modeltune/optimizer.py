"""Ask/tell access to the strategies: in memory for notebooks and benchmark harnesses, or on a shared store
where any number of processes on any machines fill one tuning job."""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from modeltune.core import ObjectiveType, Observation, StrategyName, TrainingJobStatus
from modeltune.errors import SearchEnded, SpecError
from modeltune.space import SearchSpace
from modeltune.spec.loader import describe_validation_error
from modeltune.spec.models import SearchSettings
from modeltune.stopping import StopDecision
from modeltune.strategies import make_strategy, stopping_rule_for

if TYPE_CHECKING:
    import pandas as pd

    from modeltune.store import Store, TrainingJob
    from modeltune.study import SharedStudy


@dataclass(frozen=True)
class Evaluation:
    """A told evaluation as ``Optimizer.best`` reports it.

    Attributes:
        hyperparameters: the tuned values.
        value: its final objective value.
        number: its number in the tuning job (1, 2, ...).
        name: its training job's name (None in memory).
        attributes: what was attached to it when told.
    """

    hyperparameters: dict[str, Any]
    value: float
    number: int
    name: str | None = None
    attributes: dict[str, Any] | None = None


class Trial:
    """One running evaluation: its hyperparameters, intermediate values and attributes.

    Made by ``Optimizer.ask_trial`` (or for each evaluation of ``Optimizer.optimize``); end it with
    ``Optimizer.tell(trial, value)``.
    """

    def __init__(self, optimizer: Optimizer, hyperparameters: dict[str, Any], number: int, record: Any = None):
        self.hyperparameters = hyperparameters
        self.number = number
        self.attributes: dict[str, Any] = {}
        self.decision: StopDecision | None = None
        self._optimizer = optimizer
        self._record: TrainingJob | None = record

    @property
    def name(self) -> str | None:
        """The training job's name in the store (None in memory)."""
        return self._record.name if self._record is not None else None

    @property
    def output_dir(self) -> Path | None:
        """A folder of its own for a model or other files (created on first use; None in memory)."""
        if self._record is None:
            return None
        folder = Path(self._record.output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def set_attribute(self, key: str, value: Any) -> None:
        """Attach a JSON-serialisable value, stored with the evaluation when it is told."""
        self.attributes[key] = value

    def report(self, step: float, value: float) -> None:
        """Record an intermediate objective value; ``should_stop()`` then says whether to stop."""
        self.decision = self._optimizer.report(self.hyperparameters, value, step) or self.decision

    def should_stop(self) -> bool:
        """True when the tuning job's early-stopping rule (or Hyperband) decided this evaluation should end;
        then tell its last value (it is recorded as Stopped, or Completed at Hyperband's full resource)."""
        return self.decision is not None


class Optimizer:
    """Suggests configurations and learns from their results.

    In memory by default. With a ``name`` (or a ``store``), the Optimizer is a tuning job in the store
    (SQLite by default, or a shared PostgreSQL/MySQL server) that any number of processes fill at once:
    each ask is a training job of that tuning job, running (owned by this process, kept alive by a
    heartbeat) until it is told; the strategy sees the other processes' running evaluations, so no two
    get the same point, and ``max_jobs`` holds for all of them together.

    Asked-but-not-told configurations count as running training jobs, exactly as
    in a tuning job, so ``ask(4)`` behaves like four parallel slots.

    Args:
        ranges: name -> range in the spec's shape, e.g. ``{"type": "Integer", "min": 1, "max": 10}``.
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        strategy: ``"Bayesian"``, ``"Random"``, ``"Grid"``, ``"Hyperband"``.
        random_seed: makes the suggestions reproducible; drawn at random when None.
        early_stopping: ``"Off"``, ``"Auto"`` or ``{"type": "Auto", "min_steps": 3, "min_peers": 3}``.
        hyperband: Hyperband's settings, e.g. ``{"min_resource": 1, "max_resource": 27}``.
        name: the tuning job's name in the store; makes the Optimizer store-backed.
        store: a store URL (or ``Store``); by default ``$MODELTUNE_STORE`` or SQLite in ``$MODELTUNE_HOME``.
        load_if_exists: continue the tuning job ``name`` when it exists (its settings must match).
        max_jobs: how many evaluations in all (every process together); unlimited when None.
        objective_metric: the objective's name in the store.

    With early stopping or Hyperband, ``report`` intermediate values while a
    configuration runs and stop it when a decision comes back.

    Raises:
        SpecError: invalid settings, or settings that differ from the stored job's.
        ConflictError: the job exists and ``load_if_exists`` is False.
    """

    def __init__(
        self,
        ranges: Mapping[str, Any],
        objective_type: ObjectiveType | str = ObjectiveType.MAXIMIZE,
        strategy: StrategyName | str = StrategyName.BAYESIAN,
        random_seed: int | None = None,
        early_stopping: str | Mapping[str, Any] = "Off",
        hyperband: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        store: str | Store | None = None,
        load_if_exists: bool = False,
        max_jobs: int | None = None,
        objective_metric: str = "objective",
    ):
        settings = _settings(
            ranges=ranges,
            objective_type=objective_type,
            strategy=strategy,
            random_seed=random_seed,
            early_stopping=early_stopping,
            hyperband=hyperband,
        )
        if max_jobs is not None and (isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1):
            raise SpecError(f"Optimizer: max_jobs must be a whole number of at least 1, got {max_jobs!r}")
        self._study: SharedStudy | None = None
        if name is not None or store is not None:
            self._study = _open(name, store, settings, max_jobs, objective_metric, load_if_exists)
            settings = settings.model_copy(update={"random_seed": self._study.spec.random_seed})
        self.space = SearchSpace(settings.ranges)
        self.objective_type = ObjectiveType(settings.objective_type)
        self.max_jobs = max_jobs
        seed = random.SystemRandom().randrange(2**31) if settings.random_seed is None else settings.random_seed
        options = settings.hyperband.model_dump() if settings.hyperband else {}
        self._strategy = make_strategy(
            settings.strategy, self.space, settings.objective_type, seed, max_jobs, **options
        )
        stopping = settings.early_stopping
        self._rule = stopping_rule_for(self._strategy, stopping.type, stopping.min_steps, stopping.min_peers)
        self._history: list[Observation] = []
        self._running: dict[tuple[str, ...], Trial] = {}

    @property
    def name(self) -> str | None:
        """The tuning job's name in the store (None in memory)."""
        return self._study.job.name if self._study is not None else None

    def add_parent(self, hyperparameters: Mapping[str, Any], value: float | None, transfer: bool = False) -> None:
        """Add a warm-start parent's evaluation (``transfer``: from a related, not identical, problem); in memory."""
        self._in_memory("add_parent")
        self._history.insert(
            sum(1 for o in self._history if o.source),
            Observation(dict(hyperparameters), *_outcome(value), source="parent", transfer=transfer),
        )

    def ask(self, count: int = 1) -> list[dict[str, Any]]:
        """Up to ``count`` new configurations; fewer (or none) when the budget is spent, a finite space is
        used up or the stored tuning job has ended."""
        try:
            return [t.hyperparameters for t in self._start(count)]
        except SearchEnded:
            return []

    def ask_trial(self) -> Trial:
        """One new evaluation as a ``Trial``.

        Raises:
            SearchEnded: none can start (the budget is spent, the space used up, the job ended).
        """
        return self._start(1)[0]

    def report(self, hyperparameters: Mapping[str, Any], value: float, step: float) -> StopDecision | None:
        """Record an intermediate value of a running configuration; a decision means: stop it now.

        After stopping it, ``tell`` its last value (it counts like a stopped training job).
        """
        trial = self._trial(hyperparameters)
        if self._study is not None and trial._record is not None:
            return self._study.report(trial._record, step, value)
        i = self._running_index(hyperparameters)
        obs = self._history[i]
        self._history[i] = replace(obs, curve=(*obs.curve, (float(step), float(value))))
        if self._rule is None:
            return None
        return self._rule.should_stop(self._history[i], list(self._history))

    def tell(
        self,
        hyperparameters: Mapping[str, Any] | Trial,
        value: float | None,
        stopped: bool = False,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the result of an asked configuration or trial.

        Args:
            hyperparameters: what ``ask`` returned, or the ``Trial``.
            value: the objective value; None (or NaN) for a failed evaluation.
            stopped: it was ended early (after a stop decision this is implied).
            attributes: JSON-serialisable values to keep with it (merged over the trial's).
        """
        trial = hyperparameters if isinstance(hyperparameters, Trial) else self._trial(hyperparameters)
        reason = None
        if value is not None and not math.isfinite(value):
            value, reason = None, f"the objective value was {value}"
        self._finish(trial, value, stopped, {**trial.attributes, **(attributes or {})}, reason)

    def observe(self, hyperparameters: Mapping[str, Any], value: float | None) -> None:
        """Record an evaluation that was not asked (a configuration tried by hand, say); None if it failed."""
        self._in_memory("observe")
        missing = [name for name in self.space.names if name not in hyperparameters]
        if missing:
            raise ValueError(f"observe() needs a value for every tuned hyperparameter; missing: {', '.join(missing)}")
        self._history.append(Observation(dict(hyperparameters), *_outcome(value), number=self._next_number()))

    def optimize(
        self,
        objective: Callable[..., float | None],
        n_trials: int | None = None,
        catch: tuple[type[Exception], ...] = (),
    ) -> int:
        """Evaluate ``objective`` on new configurations until ``n_trials`` ran here, the budget is spent or the
        space is used up; how many ran.

        ``objective(hyperparameters)`` returns the value (None: failed); one taking two arguments also gets
        the ``Trial`` (to ``report`` values, check ``should_stop()`` or ``set_attribute``). An exception
        fails the evaluation and is raised again, unless it is one of ``catch``.
        """
        with_trial = _takes_two(objective)
        ran = 0
        while n_trials is None or ran < n_trials:
            try:
                trial = self.ask_trial()
            except SearchEnded:
                break
            ran += 1
            try:
                value = objective(trial.hyperparameters, trial) if with_trial else objective(trial.hyperparameters)
            except BaseException as exc:
                self._finish(trial, None, False, trial.attributes, f"{type(exc).__name__}: {exc}".strip())
                if isinstance(exc, catch):
                    continue
                raise
            self.tell(trial, value)
        return ran

    @property
    def best(self) -> Evaluation | None:
        """The best told evaluation (of every process, for a stored job); None before any has a value."""
        if self._study is not None:
            from modeltune.core import best_training_job

            found = best_training_job(self._study.records(), self.objective_type)
            if found is None or found.final_objective is None:
                return None
            return Evaluation(
                found.hyperparameters, found.final_objective, found.number, found.name, found.attributes or {}
            )
        scored = [o for o in self._history if not o.source and o.objective is not None]
        completed = [o for o in scored if o.status == TrainingJobStatus.COMPLETED] or scored
        if not completed:
            return None
        top = min(completed, key=lambda o: (self.objective_type.loss(float(o.objective or 0.0)), o.number))
        return Evaluation(top.hyperparameters, float(top.objective or 0.0), top.number)

    def trials_dataframe(self) -> pd.DataFrame:
        """One row per evaluation: SageMaker's analytics table for a stored job (``attr:<key>`` columns
        hold the attributes), or number, status, value and hyperparameters in memory."""
        import pandas as pd

        if self._study is None:
            rows = [
                {"number": o.number, "status": o.status, "value": o.objective, **o.hyperparameters}
                for o in self._history
                if not o.source
            ]
            return pd.DataFrame(rows)
        from modeltune.analytics.dataframe import trials_dataframe

        frame = trials_dataframe(self._study.store, self._study.job.name)
        attributes = {r.name: r.attributes or {} for r in self._study.records()}
        keys = sorted({k for a in attributes.values() for k in a})
        for key in keys:
            frame[f"attr:{key}"] = [attributes.get(n, {}).get(key) for n in frame["TrainingJobName"]]
        return frame

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the stored tuning job ends: every process's evaluations told (or lost) and the budget
        spent, or the job stopped; True if it ended within ``timeout`` seconds."""
        if self._study is None:
            raise SpecError("wait() works on a stored tuning job only (give the Optimizer a name)")
        return self._study.wait(timeout)

    def close(self) -> None:
        """Stop the store heartbeat (evaluations still running here are then lost once their hold expires)."""
        if self._study is not None:
            self._study.close()

    def __enter__(self) -> Optimizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, count: int) -> list[Trial]:
        if self._study is not None:
            records = self._study.start(count)
            trials = [Trial(self, r.hyperparameters, r.number, r) for r in records]
        else:
            if self.max_jobs is not None:
                count = min(count, self.max_jobs - (self._next_number() - 1))
            batch = self._strategy.suggest(list(self._history), count) if count > 0 else []
            if not batch:
                raise SearchEnded("the budget is spent or every configuration has been evaluated")
            start = self._next_number()
            trials = [Trial(self, dict(hp), start + i) for i, hp in enumerate(batch)]
            self._history.extend(
                Observation(t.hyperparameters, TrainingJobStatus.IN_PROGRESS, number=t.number) for t in trials
            )
        for trial in trials:
            self._running[self.space.key(trial.hyperparameters)] = trial
        return trials

    def _finish(
        self, trial: Trial, value: float | None, stopped: bool, attributes: dict[str, Any], reason: str | None
    ) -> None:
        status, objective = _outcome(value, stopped or trial.decision is not None)
        if value is not None and trial.decision is not None:
            status = trial.decision.status
            reason = reason or trial.decision.reason
        key = self.space.key(trial.hyperparameters)
        if self._study is not None and trial._record is not None:
            self._study.finish(trial._record, status, objective, attributes, reason)
        else:
            i = self._running_index(trial.hyperparameters)
            self._history[i] = replace(self._history[i], status=status, objective=objective)
        self._running.pop(key, None)

    def _trial(self, hyperparameters: Mapping[str, Any]) -> Trial:
        trial = self._running.get(self.space.key(hyperparameters))
        if trial is None:
            raise ValueError("got a configuration that was not asked, or was already told")
        return trial

    def _in_memory(self, what: str) -> None:
        if self._study is not None:
            raise SpecError(f"{what}() works on an in-memory Optimizer only, not on the stored tuning job")

    def _next_number(self) -> int:
        """The number of the next own evaluation (parents' are not counted), from 1."""
        return sum(1 for o in self._history if not o.source) + 1

    def _running_index(self, hyperparameters: Mapping[str, Any]) -> int:
        key = self.space.key(hyperparameters)
        for i, obs in enumerate(self._history):
            if obs.running and self.space.key(obs.hyperparameters) == key:
                return i
        raise ValueError("got a configuration that was not asked, or was already told")

    @property
    def history(self) -> list[Observation]:
        """Every asked configuration with its status and value, oldest first (of every process, when stored)."""
        if self._study is not None:
            return self._study.history()
        return list(self._history)


def _open(
    name: str | None,
    store: str | Store | None,
    settings: SearchSettings,
    max_jobs: int | None,
    metric: str,
    load_if_exists: bool,
) -> SharedStudy:
    """The stored tuning job behind a shared Optimizer."""
    from modeltune.store import Store
    from modeltune.study import open_study

    if name is None:
        raise SpecError("Optimizer: a store needs a name for the tuning job, e.g. name='study-1'")
    opened = store if isinstance(store, Store) else Store(store)
    return open_study(opened, name, settings, max_jobs, metric, load_if_exists)


def _takes_two(function: Callable[..., Any]) -> bool:
    """Whether ``function`` accepts a second positional argument (the trial)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def _settings(**arguments: Any) -> SearchSettings:
    """The Optimizer's arguments validated, or SpecError with the spec's one-line message."""
    try:
        return SearchSettings.model_validate(arguments)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc, "Optimizer")) from None


def _outcome(value: float | None, stopped: bool = False) -> tuple[TrainingJobStatus, float | None]:
    """The status and objective of an evaluation that returned ``value`` (None: it failed)."""
    if value is None:
        return TrainingJobStatus.FAILED, None
    return (TrainingJobStatus.STOPPED if stopped else TrainingJobStatus.COMPLETED), float(value)
