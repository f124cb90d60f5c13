"""SageMaker CreateHyperParameterTuningJob requests, in (``import_request``) and out (``export_request``).

The request is the one the AWS CLI (``--cli-input-json``) or boto3 sends. Numbers that the API
types as strings (range bounds, static hyperparameters) are read from strings or numbers and
written as strings. Script-mode settings travel as SageMaker's framework estimators send them:
``sagemaker_program`` names the script (the command becomes ``python <script>``) and
``sagemaker_submit_directory`` the code folder (a ``file://`` URL, as in SageMaker local mode).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modeltune.core import EarlyStoppingType, ObjectiveType, StrategyName, WarmStartType
from modeltune.formats.fields import Fields, Reading
from modeltune.formats.local import Exported, Imported, LocalSettings, lost_settings
from modeltune.spec import TuningJobSpec
from modeltune.spec.documents import read_document

FORM = "SageMaker"
_STRATEGIES = {s.value: s.value for s in StrategyName}
_OBJECTIVES = {t.value: t.value for t in ObjectiveType}
_EARLY_STOPPING = {t.value: t.value for t in EarlyStoppingType}
_WARM_START = {t.value: t.value for t in WarmStartType}
_SCALING = {s: s for s in ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")}
_ENABLED = {"Enabled": "Enabled", "Disabled": "Disabled"}
_FILE_URL = "file://"
_PROGRAM = "sagemaker_program"
_SUBMIT_DIRECTORY = "sagemaker_submit_directory"
# Fields of the request that describe AWS resources; present ones are listed in the warning.
_AWS_TOP = ("Tags", "Autotune", "TrainingJobDefinitions")
_AWS_CONFIG = ("HyperParameterTuningJobObjective.AutoParameters",)
_AWS_DEFINITION = (
    "DefinitionName",
    "TuningObjective",
    "HyperParameterRanges",
    "RoleArn",
    "OutputDataConfig",
    "ResourceConfig",
    "HyperParameterTuningResourceConfig",
    "VpcConfig",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
)


def load_request(path: Path, local: LocalSettings) -> Imported:
    """Read a CreateHyperParameterTuningJob request file (JSON or YAML) as a native spec."""
    return import_request(read_document(path, "request file"), path.name, local)


def import_request(data: Any, source: str, local: LocalSettings) -> Imported:
    """The native spec for a CreateHyperParameterTuningJob request given as a dict."""
    reading = Reading(source)
    top = reading.root(data, "HyperParameterTuningJobName, HyperParameterTuningJobConfig and TrainingJobDefinition")
    name = top.text("HyperParameterTuningJobName", required=local.name is None)
    if local.name is None:
        reading.origins["name"] = top.at("HyperParameterTuningJobName")
    config = top.section("HyperParameterTuningJobConfig")
    if top.has("TrainingJobDefinitions") and not top.has("TrainingJobDefinition"):
        reading.fail(
            "TrainingJobDefinitions",
            "modeltune runs one training job definition per tuning job; give it as TrainingJobDefinition",
        )
    definition = top.section("TrainingJobDefinition")
    spec: dict[str, Any] = {"name": local.name or name}
    spec.update(_tuning_config(config))
    spec["training"], runtime = _training(definition, local)
    if runtime is not None:
        spec["limits"]["max_runtime_per_training_job"] = runtime
    warm = top.mapping("WarmStartConfig")
    if warm is not None:
        parents = [
            p.required_text("HyperParameterTuningJobName") for p in warm.mappings("ParentHyperParameterTuningJobs")
        ]
        spec["warm_start"] = {"type": warm.choice("WarmStartType", _WARM_START, required=True), "parents": parents}
        reading.origins["warm_start"] = warm.path
        reading.origins["warm_start.parents"] = warm.at("ParentHyperParameterTuningJobs")
        warm.done()
    top.unused(*_AWS_TOP)
    top.done()
    return Imported(reading.validate(spec), reading.warning(FORM))


def _tuning_config(config: Fields) -> dict[str, Any]:
    reading = config.reading
    spec: dict[str, Any] = {}
    spec["strategy"] = config.choice("Strategy", _STRATEGIES) or StrategyName.BAYESIAN.value
    strategy_config = config.mapping("StrategyConfig")
    if strategy_config is not None:
        hyperband = strategy_config.mapping("HyperbandStrategyConfig")
        if hyperband is not None:
            spec["hyperband"] = {
                "min_resource": float(hyperband.number("MinResource", required=True) or 0),
                "max_resource": float(hyperband.number("MaxResource", required=True) or 0),
            }
            reading.origins["hyperband"] = hyperband.path
            hyperband.done()
        strategy_config.done()
    objective = config.section("HyperParameterTuningJobObjective")
    reading.origins["objective"] = objective.path
    spec["objective"] = {
        "metric": objective.required_text("MetricName"),
        "type": objective.choice("Type", _OBJECTIVES, required=True),
    }
    objective.done()
    limits = config.section("ResourceLimits")
    spec["limits"] = {"max_parallel_jobs": limits.integer("MaxParallelTrainingJobs", required=True)}
    if (max_jobs := limits.integer("MaxNumberOfTrainingJobs")) is not None:
        spec["limits"]["max_jobs"] = max_jobs
    if (runtime := limits.number("MaxRuntimeInSeconds")) is not None:
        spec["limits"]["max_runtime"] = float(runtime)
    reading.origins.update(
        {
            "limits.max_parallel_jobs": limits.at("MaxParallelTrainingJobs"),
            "limits.max_jobs": limits.at("MaxNumberOfTrainingJobs"),
            "limits.max_runtime": limits.at("MaxRuntimeInSeconds"),
        }
    )
    limits.done()
    ranges = config.section("ParameterRanges")
    spec["ranges"] = _ranges(ranges)
    early = config.choice("TrainingJobEarlyStoppingType", _EARLY_STOPPING)
    if early is not None:
        spec["early_stopping"] = {"type": early}
        reading.origins["early_stopping"] = config.at("TrainingJobEarlyStoppingType")
    criteria = config.mapping("TuningJobCompletionCriteria")
    if criteria is not None:
        spec["completion_criteria"] = _criteria(criteria)
    if (seed := config.integer("RandomSeed")) is not None:
        spec["random_seed"] = seed
        reading.origins["random_seed"] = config.at("RandomSeed")
    config.done()
    return spec


def _ranges(ranges: Fields) -> dict[str, Any]:
    result: dict[str, Any] = {}
    kinds = (
        ("ContinuousParameterRanges", "Continuous"),
        ("IntegerParameterRanges", "Integer"),
        ("CategoricalParameterRanges", "Categorical"),
    )
    for key, kind in kinds:
        for item in ranges.mappings(key):
            name = item.required_text("Name")
            if name in result:
                ranges.reading.fail(item.at("Name"), f"hyperparameter {name!r} has more than one range")
            if kind == "Categorical":
                values = [_category(item, index, v) for index, v in enumerate(item.items("Values", required=True))]
                result[name] = {"type": kind, "values": values}
            else:
                low, high = item.number("MinValue", required=True), item.number("MaxValue", required=True)
                if kind == "Continuous":
                    low, high = float(low or 0), float(high or 0)
                result[name] = {
                    "type": kind,
                    "min": low,
                    "max": high,
                    "scaling": item.choice("ScalingType", _SCALING) or "Auto",
                }
            ranges.reading.origins[f"ranges.{name}"] = item.path
            item.done()
    ranges.unused("AutoParameters")
    ranges.done()
    return result


def _category(item: Fields, index: int, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        item.reading.fail(f"{item.at('Values')}[{index}]", f"must be text, got {value!r}")
    return str(value)


def _criteria(criteria: Fields) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if (target := criteria.number("TargetObjectiveMetricValue")) is not None:
        result["target_objective_value"] = float(target)
    not_improving = criteria.mapping("BestObjectiveNotImproving")
    if not_improving is not None:
        count = not_improving.integer("MaxNumberOfTrainingJobsNotImproving", required=True)
        result["best_objective_not_improving"] = {"max_number_of_training_jobs_not_improving": count}
        criteria.reading.origins["completion_criteria.best_objective_not_improving"] = not_improving.path
        not_improving.done()
    convergence = criteria.mapping("ConvergenceDetected")
    if convergence is not None:
        setting = convergence.choice("CompleteOnConvergence", _ENABLED) or "Enabled"
        result["convergence_detected"] = {"complete_on_convergence": setting}
        convergence.done()
    criteria.done()
    return result


def _training(definition: Fields, local: LocalSettings) -> tuple[dict[str, Any], float | None]:
    """The native training section, and the per-job runtime limit (StoppingCondition.MaxRuntimeInSeconds)."""
    reading = definition.reading
    statics = definition.texts("StaticHyperParameters")
    program = _framework_value(statics.pop(_PROGRAM, None))
    submit = _framework_value(statics.pop(_SUBMIT_DIRECTORY, None))
    framework = sorted(k for k in statics if k.startswith("sagemaker_") or k == "_tuning_objective_metric")
    for key in framework:
        value = statics.pop(key)
        reading.unused.append(f"{definition.at('StaticHyperParameters')}.{key}={value}"[:120])
    command = local.command or (["python", program] if program else None)
    if command is None:
        reading.fail(
            definition.at("StaticHyperParameters"),
            f"the request does not name the training script ({_PROGRAM}); give the local command with --command",
        )
    training: dict[str, Any] = {"command": command, "static_hyperparameters": statics}
    reading.origins["training.static_hyperparameters"] = definition.at("StaticHyperParameters")
    if local.source_dir is not None:
        training["source_dir"] = local.source_dir
    elif submit and submit.startswith(_FILE_URL):
        training["source_dir"] = submit.removeprefix(_FILE_URL)
    else:
        training["source_dir"] = str(Path.cwd())
        if submit:
            reading.unused.append(f"{definition.at('StaticHyperParameters')}.{_SUBMIT_DIRECTORY}={submit}")
    algorithm = definition.section("AlgorithmSpecification")
    definitions = []
    for index, item in enumerate(algorithm.mappings("MetricDefinitions")):
        metric = {"name": item.required_text("Name")}
        if (regex := item.text("Regex")) is not None:
            metric["regex"] = regex
        definitions.append(metric)
        reading.origins[f"training.metric_definitions.{index}"] = item.path
        item.done()
    training["metric_definitions"] = definitions
    algorithm.unused("TrainingImage", "AlgorithmName")
    algorithm.unused_unless("TrainingInputMode", "File")
    algorithm.done()
    training["channels"] = _channels(definition, local)
    if environment := definition.texts("Environment"):
        training["environment"] = environment
    retry = definition.mapping("RetryStrategy")
    if retry is not None:
        training["max_retry_attempts"] = retry.integer("MaximumRetryAttempts", required=True)
        reading.origins["training.max_retry_attempts"] = retry.at("MaximumRetryAttempts")
        retry.done()
    runtime = None
    stopping = definition.mapping("StoppingCondition")
    if stopping is not None:
        runtime = stopping.number("MaxRuntimeInSeconds")
        reading.origins["limits.max_runtime_per_training_job"] = stopping.at("MaxRuntimeInSeconds")
        stopping.unused("MaxWaitTimeInSeconds", "MaxPendingTimeInSeconds")
        stopping.done()
    definition.unused(*_AWS_DEFINITION)
    definition.done()
    return training, None if runtime is None else float(runtime)


def _framework_value(value: str | None) -> str | None:
    """A ``sagemaker_*`` hyperparameter: framework estimators JSON-encode them (``"\\"train.py\\""``)."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


def _channels(definition: Fields, local: LocalSettings) -> dict[str, str]:
    channels: dict[str, str] = {}
    for item in definition.mappings("InputDataConfig"):
        name = item.required_text("ChannelName")
        uri = None
        source = item.mapping("DataSource")
        if source is not None:
            s3 = source.mapping("S3DataSource")
            if s3 is not None:
                uri = s3.required_text("S3Uri")
                s3.unused_unless("S3DataType", "S3Prefix")
                s3.unused("S3DataDistributionType", "AttributeNames", "InstanceGroupNames")
                s3.done()
            source.unused("FileSystemDataSource")
            source.done()
        item.unused("ContentType", "CompressionType", "RecordWrapperType", "InputMode", "ShuffleConfig")
        item.done()
        if name in local.channels:
            channels[name] = local.channels[name]
        elif uri is not None and uri.startswith(_FILE_URL):
            channels[name] = uri.removeprefix(_FILE_URL)
        else:
            definition.reading.fail(
                item.at("ChannelName"),
                f"channel {name!r} has no local folder; pass --channel {name}=DIR",
            )
    return {**channels, **local.channels}


def export_request(spec: TuningJobSpec) -> Exported:
    """The CreateHyperParameterTuningJob request for ``spec`` (loads back to the same spec)."""
    lost = lost_settings(
        spec,
        {
            "limits.max_runtime_per_training_job",
            "limits.max_runtime",
            "random_seed",
            "training.environment",
            "training.max_retry_attempts",
            "completion_criteria.target_objective_value",
            "completion_criteria.best_objective_not_improving",
            "completion_criteria.convergence_detected",
        },
    )
    config: dict[str, Any] = {
        "Strategy": spec.strategy.value,
        "HyperParameterTuningJobObjective": {"Type": spec.objective.type.value, "MetricName": spec.objective.metric},
        "ResourceLimits": _limits(spec),
        "ParameterRanges": _export_ranges(spec, lost),
        "TrainingJobEarlyStoppingType": spec.early_stopping.type.value,
    }
    if spec.hyperband is not None:
        config["StrategyConfig"] = {
            "HyperbandStrategyConfig": {
                "MinResource": _plain(spec.hyperband.min_resource),
                "MaxResource": _plain(spec.hyperband.max_resource),
            }
        }
        if spec.hyperband.reduction_factor != 3 or spec.hyperband.sampler != StrategyName.BAYESIAN:
            lost.append("hyperband.reduction_factor/sampler")
    criteria = _export_criteria(spec)
    if criteria:
        config["TuningJobCompletionCriteria"] = criteria
    if spec.random_seed is not None:
        config["RandomSeed"] = spec.random_seed
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": spec.name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": _definition(spec, lost),
    }
    if spec.warm_start is not None:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in spec.warm_start.parents],
            "WarmStartType": spec.warm_start.type.value,
        }
    return Exported(request, lost)


def _limits(spec: TuningJobSpec) -> dict[str, Any]:
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": spec.limits.max_parallel_jobs}
    if spec.limits.max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = spec.limits.max_jobs
    if spec.limits.max_runtime is not None:
        limits["MaxRuntimeInSeconds"] = _plain(spec.limits.max_runtime)
    return limits


def _export_ranges(spec: TuningJobSpec, lost: list[str]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for name, r in spec.ranges.items():
        if r.type == "Categorical" or r.type == "Discrete":
            if r.type == "Discrete" or any(not isinstance(v, str) for v in r.values):
                lost.append(f"ranges.{name} ({r.type} values, written as text categories)")
            entry: dict[str, Any] = {"Name": name, "Values": [_text(v) for v in r.values]}
            result.setdefault("CategoricalParameterRanges", []).append(entry)
            continue
        scaling = r.scaling
        if scaling == "MirroredLogarithmic":
            lost.append(f"ranges.{name} (MirroredLogarithmic scaling has no SageMaker ScalingType; written as Auto)")
            scaling = "Auto"
        entry = {"Name": name, "MinValue": _text(r.min), "MaxValue": _text(r.max), "ScalingType": scaling}
        if r.type == "Continuous" and r.grid_points is not None:
            lost.append(f"ranges.{name}.grid_points")
        result.setdefault(f"{r.type}ParameterRanges", []).append(entry)
    return result


def _export_criteria(spec: TuningJobSpec) -> dict[str, Any]:
    criteria = spec.completion_criteria
    result: dict[str, Any] = {}
    if criteria.target_objective_value is not None:
        result["TargetObjectiveMetricValue"] = criteria.target_objective_value
    if criteria.best_objective_not_improving is not None:
        count = criteria.best_objective_not_improving.max_number_of_training_jobs_not_improving
        result["BestObjectiveNotImproving"] = {"MaxNumberOfTrainingJobsNotImproving": count}
    if criteria.convergence_detected is not None:
        setting = criteria.convergence_detected.complete_on_convergence
        result["ConvergenceDetected"] = {"CompleteOnConvergence": setting}
    return result


def _definition(spec: TuningJobSpec, lost: list[str]) -> dict[str, Any]:
    training = spec.training
    statics = {name: _text(value) for name, value in training.static_hyperparameters.items()}
    if any(not isinstance(v, str) for v in training.static_hyperparameters.values()):
        lost.append("training.static_hyperparameters (non-text values, written as text)")
    command = training.command
    if len(command) == 2 and command[0] in ("python", "python3"):
        statics[_PROGRAM] = command[1]
    else:
        lost.append("training.command (give it with --command when loading the request)")
    statics[_SUBMIT_DIRECTORY] = _FILE_URL + str(Path(training.source_dir).resolve())
    metrics = [
        {"Name": m.name, **({"Regex": m.regex} if m.regex is not None else {})} for m in training.metric_definitions
    ]
    definition: dict[str, Any] = {
        "StaticHyperParameters": statics,
        "AlgorithmSpecification": {"TrainingInputMode": "File", "MetricDefinitions": metrics},
    }
    if training.channels:
        definition["InputDataConfig"] = [
            {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": _FILE_URL + path}}}
            for name, path in training.channels.items()
        ]
    if spec.limits.max_runtime_per_training_job is not None:
        definition["StoppingCondition"] = {"MaxRuntimeInSeconds": _plain(spec.limits.max_runtime_per_training_job)}
    if training.environment:
        definition["Environment"] = dict(training.environment)
    if training.max_retry_attempts:
        definition["RetryStrategy"] = {"MaximumRetryAttempts": training.max_retry_attempts}
    return definition


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
