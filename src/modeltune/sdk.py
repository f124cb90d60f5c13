"""The Python API, shaped like the SageMaker Python SDK's ``Estimator`` and ``HyperparameterTuner``.

from modeltune import Estimator, HyperparameterTuner, IntegerParameter, CategoricalParameter

estimator = Estimator(command="python train.py", source_dir="examples/digits",
                      metric_definitions=[{"Name": "valid-f1", "Regex": r"f1:\\s+(-?[0-9.]+)"}])
tuner = HyperparameterTuner(estimator, "valid-f1",
                            {"n-estimators": IntegerParameter(1, 200),
                             "max-features": CategoricalParameter(["sqrt", "log2"])},
                            strategy="Random", max_jobs=10, max_parallel_jobs=2)
tuner.fit({"train": "examples/digits/data"})
tuner.analytics().dataframe()
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modeltune.core import EarlyStoppingType, ObjectiveType, StrategyName, WarmStartType
from modeltune.errors import ModeltuneError
from modeltune.spec import TuningJobSpec, parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

if TYPE_CHECKING:
    from modeltune.serving import Predictor


def ContinuousParameter(min_value: float, max_value: float, scaling_type: str = "Auto") -> dict[str, Any]:  # noqa: N802
    """A float range (SageMaker's ``ContinuousParameter``)."""
    return {"type": "Continuous", "min": min_value, "max": max_value, "scaling": scaling_type}


def IntegerParameter(min_value: int, max_value: int, scaling_type: str = "Auto") -> dict[str, Any]:  # noqa: N802
    """An integer range, bounds included (SageMaker's ``IntegerParameter``)."""
    return {"type": "Integer", "min": min_value, "max": max_value, "scaling": scaling_type}


def CategoricalParameter(values: Sequence[Any]) -> dict[str, Any]:  # noqa: N802
    """A set of unordered values (SageMaker's ``CategoricalParameter``)."""
    return {"type": "Categorical", "values": list(values)}


def DiscreteParameter(values: Sequence[float], scaling_type: str = "Auto") -> dict[str, Any]:  # noqa: N802
    """An ordered set of numbers (Cloud ML's ``DISCRETE``)."""
    return {"type": "Discrete", "values": list(values), "scaling": scaling_type}


class WarmStartTypes:
    """The warm-start types (SageMaker's ``WarmStartTypes``)."""

    IDENTICAL_DATA_AND_ALGORITHM = WarmStartType.IDENTICAL_DATA_AND_ALGORITHM
    TRANSFER_LEARNING = WarmStartType.TRANSFER_LEARNING


class HyperbandStrategyConfig:
    """Hyperband's resources in steps (SageMaker's ``HyperbandStrategyConfig``).

    Args:
        min_resource: steps (e.g. epochs) of the smallest rung.
        max_resource: steps after which a training job is complete.
    """

    def __init__(self, min_resource: float, max_resource: float):
        self.min_resource = min_resource
        self.max_resource = max_resource


class StrategyConfig:
    """Settings of the strategy (SageMaker's ``StrategyConfig``): Hyperband's resources."""

    def __init__(self, hyperband_strategy_config: HyperbandStrategyConfig):
        self.hyperband_strategy_config = hyperband_strategy_config


class TuningJobCompletionCriteriaConfig:
    """When a tuning job may end before its budget is spent (SageMaker's ``TuningJobCompletionCriteriaConfig``).

    Args:
        max_number_training_jobs_not_improving: complete after this many training jobs without a new best.
        complete_on_convergence: complete once the search has converged.
        target_objective_metric_value: complete once a training job reaches this objective value.
    """

    def __init__(
        self,
        max_number_training_jobs_not_improving: int | None = None,
        complete_on_convergence: bool | None = None,
        target_objective_metric_value: float | None = None,
    ):
        self.max_number_training_jobs_not_improving = max_number_training_jobs_not_improving
        self.complete_on_convergence = complete_on_convergence
        self.target_objective_metric_value = target_objective_metric_value

    def as_spec(self) -> dict[str, Any]:
        """The spec's ``completion_criteria``."""
        criteria: dict[str, Any] = {"target_objective_value": self.target_objective_metric_value}
        if self.max_number_training_jobs_not_improving is not None:
            criteria["best_objective_not_improving"] = {
                "max_number_of_training_jobs_not_improving": self.max_number_training_jobs_not_improving
            }
        if self.complete_on_convergence is not None:
            enabled = "Enabled" if self.complete_on_convergence else "Disabled"
            criteria["convergence_detected"] = {"complete_on_convergence": enabled}
        return criteria


class WarmStartConfig:
    """Start a tuning job from up to five ended parent tuning jobs (SageMaker's ``WarmStartConfig``).

    Args:
        warm_start_type: ``WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM`` or ``WarmStartTypes.TRANSFER_LEARNING``.
        parents: names of the parent tuning jobs.
    """

    def __init__(self, warm_start_type: str, parents: Iterable[str]):
        self.type = warm_start_type
        self.parents = sorted(set(parents))


class Estimator:
    """How to run the training code: the command, its folder, static hyperparameters and metrics.

    Args:
        command: argv list, or a string split like a shell would (never run through one).
        source_dir: working directory of every training job (relative to the current directory).
        hyperparameters: static hyperparameters passed unchanged to every training job.
        metric_definitions: ``[{"Name": ..., "Regex": ...}]``, one capture group per regex.
        channels: default input channels, name -> folder (``fit(inputs)`` overrides them).
        environment: extra environment variables for the training jobs.
        max_run: seconds after which a training job is stopped.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        source_dir: str | Path = ".",
        hyperparameters: Mapping[str, Any] | None = None,
        metric_definitions: Sequence[Mapping[str, str]] | None = None,
        channels: Mapping[str, str | Path] | None = None,
        environment: Mapping[str, str] | None = None,
        max_run: float | None = None,
    ):
        self.command = command if isinstance(command, str) else list(command)
        self.source_dir = Path(source_dir)
        self.hyperparameters = dict(hyperparameters or {})
        self.metric_definitions = [
            {"name": d.get("Name", d.get("name")), "regex": d.get("Regex", d.get("regex"))}
            for d in (metric_definitions or [])
        ]
        self.channels = dict(channels or {})
        self.environment = dict(environment or {})
        self.max_run = max_run


class HyperparameterTuningJobAnalytics:
    """A tuning job's training jobs as a DataFrame (SageMaker's analytics object)."""

    def __init__(self, tuning_job_name: str, store: Store | None = None):
        self.name = tuning_job_name
        self._store = store or Store()

    def dataframe(self) -> Any:
        """One row per training job with SageMaker's columns and one column per tuned hyperparameter."""
        from modeltune.analytics.dataframe import trials_dataframe

        return trials_dataframe(self._store, self.name)


class HyperparameterTuner:
    """Runs tuning jobs of an ``Estimator`` over hyperparameter ranges.

    Args:
        estimator: what to train.
        objective_metric_name: the metric to optimise (must be in the metric definitions).
        hyperparameter_ranges: name -> ``ContinuousParameter(...)`` etc.
        metric_definitions: added to the estimator's.
        strategy: ``"Bayesian"`` (default), ``"Random"``, ``"Grid"`` or ``"Hyperband"``.
        objective_type: ``"Maximize"`` or ``"Minimize"``.
        max_jobs: training-job budget (default: the grid size for Grid, else 20).
        max_parallel_jobs: training jobs at once.
        max_runtime_in_seconds: limit for the whole tuning job.
        random_seed: makes the search reproducible.
        base_tuning_job_name: prefix of generated job names.
        warm_start_config: parents to start from (``WarmStartConfig``).
        strategy_config: Hyperband's resources (``StrategyConfig``); needed with ``strategy="Hyperband"``.
        completion_criteria_config: when to end early (``TuningJobCompletionCriteriaConfig``).
        early_stopping_type: ``"Off"`` (default) or ``"Auto"`` (the median rule).
        store: a ``Store`` or database URL; default: the embedded SQLite store.
    """

    def __init__(
        self,
        estimator: Estimator,
        objective_metric_name: str,
        hyperparameter_ranges: Mapping[str, Mapping[str, Any]],
        metric_definitions: Sequence[Mapping[str, str]] | None = None,
        strategy: StrategyName | str = StrategyName.BAYESIAN,
        objective_type: ObjectiveType | str = ObjectiveType.MAXIMIZE,
        max_jobs: int | None = None,
        max_parallel_jobs: int = 1,
        max_runtime_in_seconds: float | None = None,
        random_seed: int | None = None,
        base_tuning_job_name: str | None = None,
        warm_start_config: WarmStartConfig | None = None,
        strategy_config: StrategyConfig | None = None,
        completion_criteria_config: TuningJobCompletionCriteriaConfig | None = None,
        early_stopping_type: EarlyStoppingType | str = EarlyStoppingType.OFF,
        store: Store | str | None = None,
    ):
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        self.hyperparameter_ranges = {k: dict(v) for k, v in hyperparameter_ranges.items()}
        self.extra_metric_definitions = Estimator("true", metric_definitions=metric_definitions).metric_definitions
        self.strategy = strategy
        self.objective_type = objective_type
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.random_seed = random_seed
        self.base_tuning_job_name = base_tuning_job_name or "tuning"
        self.warm_start_config = warm_start_config
        self.strategy_config = strategy_config
        self.completion_criteria_config = completion_criteria_config
        self.early_stopping_type = early_stopping_type
        self.store = store if isinstance(store, Store) else Store(store)
        self.latest_tuning_job: str | None = None

    def _spec(self, job_name: str, inputs: Mapping[str, str | Path] | str | Path | None) -> TuningJobSpec:
        est = self.estimator
        channels = dict(est.channels)
        if isinstance(inputs, (str, Path)):
            channels["training"] = inputs
        elif inputs:
            channels.update(inputs)
        limits: dict[str, Any] = {
            "max_parallel_jobs": self.max_parallel_jobs,
            "max_runtime_per_training_job": est.max_run,
            "max_runtime": self.max_runtime_in_seconds,
        }
        if self.max_jobs is not None:
            limits["max_jobs"] = self.max_jobs
        data: dict[str, Any] = {
            "name": job_name,
            "training": {
                "command": est.command,
                "source_dir": str(est.source_dir.resolve()),
                "static_hyperparameters": est.hyperparameters,
                "metric_definitions": est.metric_definitions + self.extra_metric_definitions,
                "channels": {k: str(Path(v).resolve()) for k, v in channels.items()},
                "environment": est.environment,
            },
            "objective": {"metric": self.objective_metric_name, "type": self.objective_type},
            "ranges": self.hyperparameter_ranges,
            "strategy": self.strategy,
            "limits": limits,
            "random_seed": self.random_seed,
            "early_stopping": self.early_stopping_type,
        }
        if self.strategy_config is not None:
            hyperband = self.strategy_config.hyperband_strategy_config
            data["hyperband"] = {"min_resource": hyperband.min_resource, "max_resource": hyperband.max_resource}
        if self.completion_criteria_config is not None:
            data["completion_criteria"] = self.completion_criteria_config.as_spec()
        if self.warm_start_config is not None:
            data["warm_start"] = {"type": self.warm_start_config.type, "parents": self.warm_start_config.parents}
        return parse_spec(data, "HyperparameterTuner")

    def fit(
        self,
        inputs: Mapping[str, str | Path] | str | Path | None = None,
        job_name: str | None = None,
        wait: bool = True,
        show_progress: bool = True,
    ) -> None:
        """Start a tuning job; with ``wait`` run it here until it ends, else in a background process.

        Args:
            inputs: channel name -> folder, or one folder (the ``training`` channel).
            job_name: the tuning job's name (default: the base name and a timestamp).
            wait: block until the job ends.
            show_progress: show a progress bar while waiting.
        """
        from modeltune.controller import service

        name = job_name or f"{self.base_tuning_job_name}-{datetime.now():%y%m%d-%H%M%S}"
        job = service.submit(self.store, self._spec(name, inputs))
        self.latest_tuning_job = job.name
        if not wait:
            service.start_detached(self.store, job.name)
            return
        if not show_progress:
            service.run(self.store, job.name)
            return
        from rich.console import Console

        from modeltune.terminal import ProgressView

        with ProgressView(Console(), job.name) as view:
            service.run(self.store, job.name, on_progress=view.update)

    def identical_dataset_and_algorithm_tuner(self, additional_parents: Iterable[str] = ()) -> HyperparameterTuner:
        """This tuner warm-started (IdenticalDataAndAlgorithm) from its latest job and ``additional_parents``."""
        return self._warm_started_copy(WarmStartTypes.IDENTICAL_DATA_AND_ALGORITHM, additional_parents)

    def transfer_learning_tuner(self, additional_parents: Iterable[str] = ()) -> HyperparameterTuner:
        """This tuner warm-started (TransferLearning) from its latest job and ``additional_parents``."""
        return self._warm_started_copy(WarmStartTypes.TRANSFER_LEARNING, additional_parents)

    def _warm_started_copy(self, warm_start_type: str, additional_parents: Iterable[str]) -> HyperparameterTuner:
        tuner = copy.copy(self)
        tuner.warm_start_config = WarmStartConfig(warm_start_type, {self._name(), *additional_parents})
        tuner.latest_tuning_job = None
        return tuner

    def _name(self) -> str:
        if self.latest_tuning_job is None:
            raise ModeltuneError("this tuner has not started a tuning job yet; call fit() first")
        return self.latest_tuning_job

    def wait(self, poll_seconds: float = 1.0) -> None:
        """Block until the latest tuning job has ended."""
        while not repo.get_tuning_job(self.store, self._name()).terminal:
            time.sleep(poll_seconds)

    def describe(self) -> dict[str, Any]:
        """The latest tuning job with SageMaker's DescribeHyperParameterTuningJob field names."""
        from modeltune.analytics import describe_tuning_job

        return describe_tuning_job(self.store, self._name())

    def best_training_job(self) -> str:
        """Name of the best training job so far."""
        best = self.describe()["BestTrainingJob"]
        if best is None:
            raise ModeltuneError(f"tuning job {self._name()!r} has no training job with an objective value yet")
        return str(best["TrainingJobName"])

    def stop(self) -> None:
        """Ask the latest tuning job to stop (running training jobs get SIGTERM, then SIGKILL)."""
        from modeltune.controller import service

        service.stop(self.store, self._name())

    def deploy(
        self,
        training_job: str | None = None,
        entry_point: str | None = None,
        port: int | None = None,
        workers: int = 1,
    ) -> Predictor:
        """Serve the latest tuning job's best (or named) training job and return its ``Predictor``.

        See ``modeltune.deploy`` for the arguments.
        """
        from modeltune.serving import deploy

        return deploy(self._name(), training_job, entry_point, port, workers, store=self.store)

    def analytics(self) -> HyperparameterTuningJobAnalytics:
        """The latest tuning job's analytics (``.dataframe()``)."""
        return HyperparameterTuningJobAnalytics(self._name(), self.store)
