"""The tuning-job spec: the user-facing contract, validated once before anything launches."""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from modeltune.core import EarlyStoppingType, ObjectiveType, StrategyName, WarmStartType
from modeltune.space import SearchSpace
from modeltune.space.ranges import ContinuousRange, Range

StaticValue = str | int | float | bool
JOB_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})$"
DEFAULT_MAX_JOBS = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MetricDefinition(_Model):
    """A metric read from the training job's log: a regex with one capture group for the value.

    An optional named group ``(?P<step>...)`` gives the step explicitly. Without a regex the
    metric is one the training code reports itself (``modeltune.report`` or cloudml-hypertune).
    """

    name: str = Field(min_length=1)
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, regex: str | None) -> str | None:
        if regex is None:
            return None
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError(f"regex {regex!r} does not compile ({exc})") from None
        value_groups = compiled.groups - (1 if "step" in compiled.groupindex else 0)
        if value_groups != 1:
            raise ValueError(
                f"regex {regex!r} must have exactly one capture group for the value, it has {value_groups}; "
                "wrap the number in parentheses and use (?:...) for other groups"
            )
        return regex


class TrainingSpec(_Model):
    """How to run one training job."""

    command: list[str] = Field(min_length=1)
    source_dir: str = "."
    static_hyperparameters: dict[str, StaticValue] = Field(default_factory=dict)
    metric_definitions: list[MetricDefinition] = Field(default_factory=list)
    channels: dict[str, str] = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    stop_grace_seconds: float = Field(default=30.0, ge=0)
    # SageMaker's RetryStrategy.MaximumRetryAttempts: runs again after failures that are not the code's fault.
    max_retry_attempts: int = Field(default=0, ge=0, le=30)

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, command: Any) -> Any:
        return shlex.split(command) if isinstance(command, str) else command

    @model_validator(mode="after")
    def _check_metrics(self) -> TrainingSpec:
        names = [m.name for m in self.metric_definitions]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"metric names must be unique, repeated: {', '.join(repeated)}")
        if len(names) > 40:
            raise ValueError(f"at most 40 metric definitions are allowed, got {len(names)}")
        return self


class Objective(_Model):
    """The metric to optimise and its direction."""

    metric: str
    type: ObjectiveType = ObjectiveType.MAXIMIZE


class Limits(_Model):
    """Budget of a tuning job. Runtimes are in seconds."""

    max_jobs: int | None = Field(default=None, ge=1)
    max_parallel_jobs: int = Field(default=1, ge=1)
    max_runtime_per_training_job: float | None = Field(default=None, gt=0)
    max_runtime: float | None = Field(default=None, gt=0)
    max_total_training_jobs: int = Field(default=500, ge=1)
    max_failed_jobs: int | None = Field(default=None, ge=1)


class EarlyStopping(_Model):
    """``Off``, or ``Auto``: the median stopping rule (see ``modeltune.stopping.MedianStoppingRule``)."""

    type: EarlyStoppingType = EarlyStoppingType.OFF
    min_steps: int = Field(default=3, ge=1)
    min_peers: int = Field(default=3, ge=1)


# ``early_stopping: Auto`` is short for ``early_stopping: {type: Auto}``.
EarlyStoppingSetting = Annotated[
    EarlyStopping, BeforeValidator(lambda value: {"type": value} if isinstance(value, str) else value)
]


class HyperbandSettings(_Model):
    """Hyperband's resources, in steps (SageMaker's HyperbandStrategyConfig MinResource/MaxResource)."""

    min_resource: float = Field(gt=0)
    max_resource: float = Field(gt=0)
    reduction_factor: float = Field(default=3, ge=2)
    sampler: Literal[StrategyName.BAYESIAN, StrategyName.RANDOM] = StrategyName.BAYESIAN

    @model_validator(mode="after")
    def _check_resources(self) -> HyperbandSettings:
        if self.min_resource >= self.max_resource:
            raise ValueError(
                f"min_resource ({self.min_resource:g}) must be less than max_resource ({self.max_resource:g})"
            )
        return self


class BestObjectiveNotImproving(_Model):
    """Complete when the best objective has not improved for this many training jobs in a row."""

    max_number_of_training_jobs_not_improving: int = Field(ge=3)


class ConvergenceDetected(_Model):
    """Complete when the search has converged (the rule is in ``controller.completion``)."""

    complete_on_convergence: Literal["Enabled", "Disabled"] = "Enabled"


class CompletionCriteria(_Model):
    """When a tuning job may end before its budget is spent (SageMaker's TuningJobCompletionCriteria)."""

    target_objective_value: float | None = None
    best_objective_not_improving: BestObjectiveNotImproving | None = None
    convergence_detected: ConvergenceDetected | None = None


class WarmStart(_Model):
    """Start from the training jobs of up to five ended parent tuning jobs.

    ``IdenticalDataAndAlgorithm``: the parents evaluated the same function, so their
    training jobs are ordinary observations. ``TransferLearning``: data, code or ranges
    may differ; the strategy learns how far to trust the parents.
    """

    type: WarmStartType
    parents: list[str] = Field(min_length=1, max_length=5)

    @field_validator("parents")
    @classmethod
    def _unique_parents(cls, parents: list[str]) -> list[str]:
        if len(set(parents)) != len(parents):
            raise ValueError("parents must be distinct tuning jobs")
        return parents


class SearchSettings(_Model):
    """What the ask/tell ``Optimizer`` needs: ranges, direction, strategy and its stopping settings."""

    ranges: dict[str, Range] = Field(min_length=1)
    objective_type: ObjectiveType = ObjectiveType.MAXIMIZE
    strategy: StrategyName = StrategyName.BAYESIAN
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStoppingSetting = Field(default_factory=EarlyStopping)
    random_seed: int | None = Field(default=None, ge=0)


class TuningJobSpec(_Model):
    """Everything a tuning job needs; stored with the job so it can be resumed as it was."""

    name: str
    training: TrainingSpec
    objective: Objective
    ranges: dict[str, Range] = Field(min_length=1)
    strategy: StrategyName = StrategyName.BAYESIAN
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStoppingSetting = Field(default_factory=EarlyStopping)
    limits: Limits = Field(default_factory=Limits)
    random_seed: int | None = Field(default=None, ge=0)
    warm_start: WarmStart | None = None
    completion_criteria: CompletionCriteria = Field(default_factory=CompletionCriteria)

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not re.fullmatch(JOB_NAME_PATTERN, name):
            raise ValueError(
                f"{name!r} is not a valid tuning-job name: use 1 to 63 letters, digits, '-' or '_', starting with a "
                "letter or digit"
            )
        return name

    @model_validator(mode="after")
    def _check_consistency(self) -> TuningJobSpec:
        metric_names = [m.name for m in self.training.metric_definitions]
        if metric_names and self.objective.metric not in metric_names:
            raise ValueError(
                f"objective metric {self.objective.metric!r} is not among the metric definitions "
                f"({', '.join(metric_names)}); add a definition for it (without a regex if the training code "
                "reports it with modeltune.report or cloudml-hypertune) or pick one of those"
            )
        clash = sorted(set(self.ranges) & set(self.training.static_hyperparameters))
        if clash:
            raise ValueError(
                f"{', '.join(clash)} is both tuned and static; remove it from ranges or from static_hyperparameters"
            )
        if self.strategy == StrategyName.GRID:
            for name, r in self.ranges.items():
                if isinstance(r, ContinuousRange) and r.grid_points is None:
                    raise ValueError(
                        f"Grid search needs grid_points for the Continuous range {name!r}, e.g. grid_points: 5"
                    )
        self._check_stopping()
        max_jobs = self.max_jobs
        if self.limits.max_parallel_jobs > max_jobs:
            raise ValueError(f"max_parallel_jobs ({self.limits.max_parallel_jobs}) cannot exceed max_jobs ({max_jobs})")
        if self.warm_start and self.name in self.warm_start.parents:
            raise ValueError(f"tuning job {self.name!r} cannot be its own warm-start parent")
        return self

    def _check_stopping(self) -> None:
        if self.strategy == StrategyName.HYPERBAND and self.hyperband is None:
            raise ValueError(
                "Hyperband needs its resources in steps, e.g. hyperband: {min_resource: 1, max_resource: 27}"
            )
        if self.strategy != StrategyName.HYPERBAND and self.hyperband is not None:
            raise ValueError(f"hyperband settings apply only to strategy Hyperband, not {self.strategy}; remove them")
        auto = self.early_stopping.type == EarlyStoppingType.AUTO
        if auto and self.strategy == StrategyName.HYPERBAND:
            raise ValueError("Hyperband stops training jobs itself; set early_stopping to Off")
        if auto and self.strategy == StrategyName.GRID:
            raise ValueError(
                "Grid search runs every combination to the end; use Random or Bayesian with early stopping"
            )

    def strategy_options(self) -> dict[str, Any]:
        """Settings passed to the strategy's constructor."""
        return self.hyperband.model_dump() if self.hyperband else {}

    @property
    def space(self) -> SearchSpace:
        """The tuned ranges as a search space."""
        return SearchSpace(self.ranges)

    @property
    def max_jobs(self) -> int:
        """The training-job budget: the stated limit, else the grid size for Grid, else 20."""
        if self.limits.max_jobs is not None:
            return self.limits.max_jobs
        return self.space.grid_size() if self.strategy == StrategyName.GRID else DEFAULT_MAX_JOBS
