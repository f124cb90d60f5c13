"""Warm start: the rules a child tuning job must follow, and its parents' training jobs as observations.

The rules are SageMaker's: at most 5 parents, each ended; the same objective metric
and direction; the same total number of static plus tuned hyperparameters; no
hyperparameter changes type; at most 10 changes (a tuned hyperparameter made static
counts 1, or k for a categorical with k values; a changed static value counts 2, the
old and the new value); not recursive (only the named parents' own training jobs);
the parents' training jobs count toward ``limits.max_total_training_jobs`` (500).
"""

from __future__ import annotations

from typing import Any

from modeltune.core import Observation
from modeltune.errors import NotFoundError, SpecError
from modeltune.space.ranges import CategoricalRange
from modeltune.spec import TuningJobSpec
from modeltune.store import Store, TrainingJob
from modeltune.store import repository as repo

MAX_CHANGES = 10


def check_warm_start(store: Store, spec: TuningJobSpec) -> None:
    """Raise SpecError naming the first warm-start rule ``spec`` breaks."""
    if spec.warm_start is None:
        return
    parent_jobs = 0
    for name in spec.warm_start.parents:
        parent = repo.get_tuning_job(store, name)
        if not parent.terminal:
            raise SpecError(
                f"warm-start parent {name!r} is {parent.status}; parents must have ended (Completed, Stopped or "
                f"Failed): wait for it or run 'modeltune stop {name}'"
            )
        _check_compatible(spec, TuningJobSpec.model_validate(parent.spec))
        parent_jobs += repo.count_training_jobs(store, parent.id)
    total = parent_jobs + spec.max_jobs
    if total > spec.limits.max_total_training_jobs:
        raise SpecError(
            f"the parents' {parent_jobs} training jobs plus max_jobs {spec.max_jobs} make {total}, over the limit of "
            f"{spec.limits.max_total_training_jobs} per tuning job; lower max_jobs, drop a parent, or raise "
            "limits.max_total_training_jobs"
        )


def _hyperparameter_kinds(spec: TuningJobSpec) -> dict[str, str]:
    kinds: dict[str, str] = {name: r.type for name, r in spec.ranges.items()}
    kinds.update({name: "static" for name in spec.training.static_hyperparameters})
    return kinds


def _check_compatible(child: TuningJobSpec, parent: TuningJobSpec) -> None:
    name = parent.name
    if (child.objective.metric, child.objective.type) != (parent.objective.metric, parent.objective.type):
        raise SpecError(
            f"the objective ({child.objective.type} {child.objective.metric}) differs from warm-start parent "
            f"{name!r} ({parent.objective.type} {parent.objective.metric}); warm start needs the same objective"
        )
    child_kinds, parent_kinds = _hyperparameter_kinds(child), _hyperparameter_kinds(parent)
    if len(child_kinds) != len(parent_kinds):
        raise SpecError(
            f"this job has {len(child_kinds)} static plus tuned hyperparameters and warm-start parent {name!r} has "
            f"{len(parent_kinds)}; the totals must match (add the missing ones as static hyperparameters)"
        )
    for hp, kind in child_kinds.items():
        parent_kind = parent_kinds.get(hp)
        if kind != "static" and parent_kind not in ("static", None) and parent_kind != kind:
            raise SpecError(
                f"hyperparameter {hp!r} is {kind} here but {parent_kind} in warm-start parent {name!r}; "
                "a hyperparameter cannot change type"
            )
    changes = _count_changes(child, parent)
    if changes > MAX_CHANGES:
        raise SpecError(
            f"this job makes {changes} changes to warm-start parent {name!r} (tuned made static, static values "
            f"changed), more than the {MAX_CHANGES} allowed; keep more hyperparameters as they were"
        )


def _count_changes(child: TuningJobSpec, parent: TuningJobSpec) -> int:
    changes = 0
    child_static = child.training.static_hyperparameters
    for hp, value in child_static.items():
        if hp in parent.ranges:
            parent_range = parent.ranges[hp]
            changes += len(parent_range.values) if isinstance(parent_range, CategoricalRange) else 1
        elif hp in parent.training.static_hyperparameters and parent.training.static_hyperparameters[hp] != value:
            changes += 2
    return changes


def parent_observations(store: Store, spec: TuningJobSpec) -> list[Observation]:
    """The parents' own training jobs, in the child's hyperparameter names, oldest parent first.

    A parent's static value fills a hyperparameter the child tunes; a value outside
    the child's (narrowed) ranges is left out, as the child's strategy searches only
    inside them. Parents deleted since the child was created are skipped.
    """
    if spec.warm_start is None:
        return []
    transfer = spec.warm_start.type == "TransferLearning"
    observations: list[Observation] = []
    for name in spec.warm_start.parents:
        try:
            parent = repo.get_tuning_job(store, name)
        except NotFoundError:  # deleted since: there is only less to learn from
            continue
        parent_spec = TuningJobSpec.model_validate(parent.spec)
        for job in repo.list_training_jobs(store, parent.id):
            hyperparameters = _in_child_terms(spec, parent_spec, job)
            if job.status.terminal and hyperparameters is not None:
                observations.append(Observation(hyperparameters, job.status, job.final_objective, name, transfer))
    return observations


def _in_child_terms(child: TuningJobSpec, parent: TuningJobSpec, job: TrainingJob) -> dict[str, Any] | None:
    known = {**parent.training.static_hyperparameters, **job.hyperparameters}
    space = child.space
    values: dict[str, Any] = {}
    for hp, child_range in child.ranges.items():
        if hp not in known:
            return None
        try:
            value = space.canonical(hp, known[hp])
        except (TypeError, ValueError):
            return None
        if not isinstance(child_range, CategoricalRange) and not (
            _lower(child_range) - 1e-12 <= float(value) <= _upper(child_range) + 1e-12
        ):
            return None
        values[hp] = value
    return values


def _lower(r: Any) -> float:
    return float(r.values[0] if r.type == "Discrete" else r.min)


def _upper(r: Any) -> float:
    return float(r.values[-1] if r.type == "Discrete" else r.max)
