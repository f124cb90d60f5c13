"""The tuning-job spec: the user-facing contract, validated once before anything launches."""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from modeltune.core import EarlyStoppingType, ExecutorName, ObjectiveType, StrategyName, WarmStartType
from modeltune.resources import instance_type_resources
from modeltune.space import SearchSpace
from modeltune.space.ranges import MAX_GRID, ContinuousRange, Range, RealNumber, WholeNumber
from modeltune.spec.documents import short

StaticValue = str | int | float | bool
JOB_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})$"
DEFAULT_MAX_JOBS = 20
MAX_JOBS = 1_000_000
# Characters a hyperparameter or channel name cannot hold: it becomes a command-line option
# (--name), part of an environment variable (SM_HP_NAME) and, for channels, a folder name.
_FORBIDDEN_IN_NAMES = re.compile(r"[\s=/\\\x00-\x1f]")


def _check_name(name: str) -> str:
    if not name or len(name) > 256 or name.startswith("-") or name in (".", "..") or _FORBIDDEN_IN_NAMES.search(name):
        raise ValueError(
            f"{short(name)} is not a valid name: use 1 to 256 characters without spaces, '=', '/', '\\' or control "
            "characters, not starting with '-'"
        )
    return name


def _check_variable(name: str) -> str:
    if not name or "=" in name or "\x00" in name:
        raise ValueError(f"{short(name)} is not a valid environment variable name (it cannot be empty or hold '=')")
    return name


Name = Annotated[str, AfterValidator(_check_name)]
VariableName = Annotated[str, AfterValidator(_check_variable)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class MetricDefinition(_Model):
    """A metric read from the training job's log: a regex with one capture group for the value.

    An optional named group ``(?P<step>...)`` gives the step explicitly. Without a regex the
    metric is one the training code reports itself (``modeltune.report`` or cloudml-hypertune).
    """

    name: str = Field(min_length=1, max_length=128)
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, regex: str | None) -> str | None:
        if regex is None:
            return None
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError(f"regex {short(regex)} does not compile ({exc})") from None
        value_groups = compiled.groups - (1 if "step" in compiled.groupindex else 0)
        if value_groups != 1:
            raise ValueError(
                f"regex {short(regex)} must have exactly one capture group for the value, it has {value_groups}; "
                "wrap the number in parentheses and use (?:...) for other groups"
            )
        return regex


class Resources(_Model):
    """What one training job needs; a training job starts only where all of it is free.

    ``custom`` names other resources (``{a100: 1}``): those of a Ray cluster's nodes, or those this
    machine declares in ``MODELTUNE_RESOURCES`` for the local executor.
    """

    cpus: RealNumber = Field(default=1.0, gt=0, le=100_000)
    gpus: WholeNumber = Field(default=0, ge=0, le=10_000)
    memory_gb: RealNumber | None = Field(default=None, gt=0)
    custom: dict[Name, RealNumber] = Field(default_factory=dict)


def _instance_type(value: Any) -> Any:
    return instance_type_resources(value) if isinstance(value, str) else value


# ``resources: ml.g5.2xlarge`` is short for that instance type's CPUs, GPUs and memory.
ResourcesSetting = Annotated[Resources, BeforeValidator(_instance_type)]


class TrainingSpec(_Model):
    """How to run one training job."""

    command: list[str] = Field(min_length=1)
    source_dir: str = "."
    static_hyperparameters: dict[Name, StaticValue] = Field(default_factory=dict)
    metric_definitions: list[MetricDefinition] = Field(default_factory=list)
    channels: dict[Name, str] = Field(default_factory=dict)
    # Folder, relative to the training job's folder, whose TensorBoard event files hold metrics by tag.
    tensorboard_dir: str | None = None
    environment: dict[VariableName, str] = Field(default_factory=dict)
    stop_grace_seconds: RealNumber = Field(default=30.0, ge=0, le=86400)
    # SageMaker's RetryStrategy.MaximumRetryAttempts: runs again after failures that are not the code's fault.
    max_retry_attempts: WholeNumber = Field(default=0, ge=0, le=30)
    # Per training job; unset: no accounting (the local executor runs limits.max_parallel_jobs at once).
    resources: ResourcesSetting | None = None
    # Where each training job's model.tar.gz is kept: a folder or an fsspec URL (s3://bucket/prefix).
    output_path: str | None = Field(default=None, min_length=1)

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, command: Any) -> Any:
        return shlex.split(command) if isinstance(command, str) else command

    @field_validator("tensorboard_dir")
    @classmethod
    def _check_tensorboard_dir(cls, folder: str | None) -> str | None:
        if folder is not None and (not folder or folder.startswith("/") or ".." in folder.split("/")):
            raise ValueError(
                f"{short(folder)} must be a folder inside the training job's folder, e.g. output/tensorboard "
                "(the training code finds it as $SM_OUTPUT_DIR/tensorboard)"
            )
        return folder

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

    max_jobs: WholeNumber | None = Field(default=None, ge=1, le=MAX_JOBS)
    max_parallel_jobs: WholeNumber = Field(default=1, ge=1, le=10_000)
    max_runtime_per_training_job: RealNumber | None = Field(default=None, gt=0)
    max_runtime: RealNumber | None = Field(default=None, gt=0)
    max_total_training_jobs: WholeNumber = Field(default=500, ge=1, le=MAX_JOBS)
    max_failed_jobs: WholeNumber | None = Field(default=None, ge=1, le=MAX_JOBS)


class EarlyStopping(_Model):
    """``Off``, or ``Auto``: the median stopping rule (see ``modeltune.stopping.MedianStoppingRule``)."""

    type: EarlyStoppingType = EarlyStoppingType.OFF
    min_steps: WholeNumber = Field(default=3, ge=1, le=MAX_JOBS)
    min_peers: WholeNumber = Field(default=3, ge=1, le=MAX_JOBS)


# ``early_stopping: Auto`` is short for ``early_stopping: {type: Auto}``.
EarlyStoppingSetting = Annotated[
    EarlyStopping, BeforeValidator(lambda value: {"type": value} if isinstance(value, str) else value)
]


class HyperbandSettings(_Model):
    """Hyperband's resources, in steps (SageMaker's HyperbandStrategyConfig MinResource/MaxResource)."""

    min_resource: RealNumber = Field(gt=0)
    max_resource: RealNumber = Field(gt=0, le=1e9)
    reduction_factor: RealNumber = Field(default=3, ge=2, le=1000)
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

    max_number_of_training_jobs_not_improving: WholeNumber = Field(ge=3, le=MAX_JOBS)


class ConvergenceDetected(_Model):
    """Complete when the search has converged (the rule is in ``controller.completion``)."""

    complete_on_convergence: Literal["Enabled", "Disabled"] = "Enabled"


class CompletionCriteria(_Model):
    """When a tuning job may end before its budget is spent (SageMaker's TuningJobCompletionCriteria)."""

    target_objective_value: RealNumber | None = None
    best_objective_not_improving: BestObjectiveNotImproving | None = None
    convergence_detected: ConvergenceDetected | None = None


class MlflowIntegration(_Model):
    """Record every training job as an MLflow run (see ``modeltune.integrations.mlflow``)."""

    tracking_uri: str = Field(min_length=1)
    experiment: str | None = None


class Integrations(_Model):
    """Systems that get a copy of what a tuning job records."""

    mlflow: MlflowIntegration | None = None


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

    ranges: dict[Name, Range] = Field(min_length=1)
    objective_type: ObjectiveType = ObjectiveType.MAXIMIZE
    strategy: StrategyName = StrategyName.BAYESIAN
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStoppingSetting = Field(default_factory=EarlyStopping)
    random_seed: WholeNumber | None = Field(default=None, ge=0, le=2**63 - 1)


class TuningJobSpec(_Model):
    """Everything a tuning job needs; stored with the job so it can be resumed as it was."""

    name: str
    training: TrainingSpec
    objective: Objective
    ranges: dict[Name, Range] = Field(min_length=1, max_length=1000)
    strategy: StrategyName = StrategyName.BAYESIAN
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStoppingSetting = Field(default_factory=EarlyStopping)
    limits: Limits = Field(default_factory=Limits)
    random_seed: WholeNumber | None = Field(default=None, ge=0, le=2**63 - 1)
    warm_start: WarmStart | None = None
    completion_criteria: CompletionCriteria = Field(default_factory=CompletionCriteria)
    executor: ExecutorName = ExecutorName.LOCAL
    # With executor ray: the cluster to join (auto, ray://host:10001); unset: RAY_ADDRESS or a new local one.
    ray_address: str | None = Field(default=None, min_length=1)
    integrations: Integrations = Field(default_factory=Integrations)

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
            size = self.space.grid_size()
            if size > MAX_GRID:
                raise ValueError(
                    f"Grid search over {size:,} combinations is more than the {MAX_GRID:,} allowed; use Random or "
                    "Bayesian, or fewer values"
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
