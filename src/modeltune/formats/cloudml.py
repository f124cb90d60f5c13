"""Cloud ML Engine (v1) ``hptuning_config.yaml`` in and out, and results in Cloud ML's trial shape.

A config holds ``trainingInput.hyperparameters`` (a HyperparameterSpec); the rest of
``trainingInput`` describes Google Cloud machines and is listed in the import's warning, except
``pythonModule`` and ``args``, which give the default command ``python -m MODULE ARGS``. The
trainer reports its metric under ``hyperparameterMetricTag`` (with cloudml-hypertune, or a log
regex added to the spec). ``resumePreviousJobId`` continues a stored job: its goal, params and
metric tag (and training command) are taken from it, and its trials warm-start the new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modeltune.core import (
    EarlyStoppingType,
    ObjectiveType,
    StrategyName,
    TrainingJobStatus,
    TuningJobStatus,
    WarmStartType,
)
from modeltune.formats.fields import Fields, Reading
from modeltune.formats.local import Exported, Imported, LocalSettings, lost_settings
from modeltune.spec import TuningJobSpec
from modeltune.spec.documents import read_document
from modeltune.store import Store
from modeltune.store import repository as repo

FORM = "Cloud ML"
DEFAULT_TAG = "training/hptuning/metric"
GOALS = {"MAXIMIZE": ObjectiveType.MAXIMIZE.value, "MINIMIZE": ObjectiveType.MINIMIZE.value}
ALGORITHMS = {
    "ALGORITHM_UNSPECIFIED": StrategyName.BAYESIAN.value,
    "GRID_SEARCH": StrategyName.GRID.value,
    "RANDOM_SEARCH": StrategyName.RANDOM.value,
}
SCALES = {
    "NONE": "Auto",
    "UNIT_LINEAR_SCALE": "Linear",
    "UNIT_LOG_SCALE": "Logarithmic",
    "UNIT_REVERSE_LOG_SCALE": "MirroredLogarithmic",
}
_TYPES = {"DOUBLE": "Continuous", "INTEGER": "Integer", "DISCRETE": "Discrete", "CATEGORICAL": "Categorical"}
_MACHINES = (
    "scaleTier",
    "masterType",
    "masterConfig",
    "workerType",
    "workerConfig",
    "workerCount",
    "parameterServerType",
    "parameterServerConfig",
    "parameterServerCount",
    "evaluatorType",
    "evaluatorConfig",
    "evaluatorCount",
    "packageUris",
    "region",
    "jobDir",
    "runtimeVersion",
    "pythonVersion",
    "scheduling",
    "serviceAccount",
    "network",
    "encryptionConfig",
    "useChiefInTfConfig",
    "enableWebAccess",
)
PreviousJob = Callable[[str], dict[str, Any]]


def load_config(path: Path, local: LocalSettings, previous: PreviousJob) -> Imported:
    """Read an ``hptuning_config.yaml`` (YAML or JSON) as a native spec; ``previous`` reads a stored job's spec."""
    return import_config(read_document(path, "config file"), path.name, local, previous)


def import_config(data: Any, source: str, local: LocalSettings, previous: PreviousJob) -> Imported:
    """The native spec for a Cloud ML job config given as a dict."""
    reading = Reading(source)
    top = reading.root(data, "trainingInput.hyperparameters")
    job_id = top.text("jobId")
    if local.name is None and job_id is not None:
        reading.origins["name"] = top.at("jobId")
    training_input = top.section("trainingInput")
    hyperparameters = training_input.section("hyperparameters")
    module = training_input.text("pythonModule")
    args = [str(a) for a in training_input.items("args")]
    training_input.unused(*_MACHINES)
    training_input.done()
    top.unused("labels", "etag")
    top.done()
    name = local.name or job_id or re.sub(r"[^A-Za-z0-9_-]", "-", Path(source).stem).strip("-_") or "cloudml"
    spec = _hyperparameter_spec(hyperparameters, name, previous)
    training = spec.setdefault("training", {})
    command = local.command or (["python", "-m", module, *args] if module else training.get("command"))
    if command is None:
        reading.fail("trainingInput", "the config does not name the trainer (pythonModule); give --command")
    training["command"] = command
    if local.source_dir is not None or "source_dir" not in training:
        training["source_dir"] = local.source_dir or str(Path.cwd())
    training["channels"] = {**training.get("channels", {}), **local.channels}
    return Imported(reading.validate(spec), reading.warning(FORM))


def _hyperparameter_spec(fields: Fields, name: str, previous: PreviousJob) -> dict[str, Any]:
    reading = fields.reading
    resume = fields.text("resumePreviousJobId")
    base: dict[str, Any] = {}
    if resume is not None:
        base = previous(resume)
        reading.origins["warm_start"] = fields.at("resumePreviousJobId")
    tag = fields.text("hyperparameterMetricTag") or base.get("objective", {}).get("metric") or DEFAULT_TAG
    goal = fields.choice("goal", GOALS, required=resume is None) or base["objective"]["type"]
    spec: dict[str, Any] = {"name": name, "objective": {"metric": tag, "type": goal}}
    training = {k: v for k, v in base.get("training", {}).items() if k != "metric_definitions"}
    definitions = [m for m in base.get("training", {}).get("metric_definitions", []) if m["name"] != tag]
    spec["training"] = {**training, "metric_definitions": [{"name": tag}, *definitions]}
    params = fields.mappings("params", required=resume is None)
    spec["ranges"] = {_param_name(p): _param(p) for p in params} if params else base["ranges"]
    algorithm = fields.choice("algorithm", ALGORITHMS)
    spec["strategy"] = algorithm or (base.get("strategy") if not params else None) or StrategyName.BAYESIAN.value
    spec["limits"] = fields.trial_limits("maxTrials", "maxParallelTrials", "maxFailedTrials")
    reading.origins["strategy"] = fields.at("algorithm")
    early = fields.boolean("enableTrialEarlyStopping")
    spec["early_stopping"] = EarlyStoppingType.AUTO.value if early else EarlyStoppingType.OFF.value
    reading.origins["early_stopping"] = fields.at("enableTrialEarlyStopping")
    if resume is not None:
        spec["warm_start"] = {"type": WarmStartType.IDENTICAL_DATA_AND_ALGORITHM.value, "parents": [resume]}
    fields.done()
    return spec


def _param_name(param: Fields) -> str:
    return param.required_text("parameterName")


def _param(param: Fields) -> dict[str, Any]:
    reading = param.reading
    name = _param_name(param)
    kind = param.choice("type", _TYPES, required=True)
    reading.origins[f"ranges.{name}"] = param.path
    allowed = {
        "minValue": kind in ("Continuous", "Integer"),
        "maxValue": kind in ("Continuous", "Integer"),
        "discreteValues": kind == "Discrete",
        "categoricalValues": kind == "Categorical",
        "scaleType": kind != "Categorical",
    }
    for key, fits in allowed.items():
        if param.has(key) and not fits:
            reading.fail(param.at(key), f"does not apply to a {param.data['type']} parameter; remove it")
    result: dict[str, Any] = {"type": kind}
    if kind in ("Continuous", "Integer"):
        low = param.integer("minValue", True) if kind == "Integer" else param.number("minValue", True)
        high = param.integer("maxValue", True) if kind == "Integer" else param.number("maxValue", True)
        result.update(
            {"min": low, "max": high} if kind == "Integer" else {"min": float(low or 0), "max": float(high or 0)}
        )
    elif kind == "Discrete":
        values = param.items("discreteValues", required=True)
        for index, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int | float):
                reading.fail(f"{param.at('discreteValues')}[{index}]", f"must be a number, got {value!r}")
        result["values"] = values
    else:
        values = param.items("categoricalValues", required=True)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                reading.fail(f"{param.at('categoricalValues')}[{index}]", f"must be text, got {value!r}")
        result["values"] = values
    if kind != "Categorical":
        result["scaling"] = param.choice("scaleType", SCALES) or "Auto"
    param.done()
    return result


def export_config(spec: TuningJobSpec) -> Exported:
    """The ``hptuning_config.yaml`` document for ``spec``."""
    lost = lost_settings(spec, {"limits.max_failed_jobs"})
    hyperparameters: dict[str, Any] = {
        "goal": spec.objective.type.value.upper(),
        "hyperparameterMetricTag": spec.objective.metric,
        "maxTrials": spec.max_jobs,
        "maxParallelTrials": spec.limits.max_parallel_jobs,
        "enableTrialEarlyStopping": spec.early_stopping.type == EarlyStoppingType.AUTO,
    }
    if spec.limits.max_failed_jobs is not None:
        hyperparameters["maxFailedTrials"] = spec.limits.max_failed_jobs
    algorithm = {v: k for k, v in ALGORITHMS.items()}.get(spec.strategy.value)
    if algorithm is None:
        lost.append(f"strategy {spec.strategy.value} (written as ALGORITHM_UNSPECIFIED, Bayesian)")
        algorithm = "ALGORITHM_UNSPECIFIED"
    hyperparameters["algorithm"] = algorithm
    hyperparameters["params"] = [export_param(name, r, lost) for name, r in spec.ranges.items()]
    if spec.warm_start is not None:
        if spec.warm_start.type == WarmStartType.IDENTICAL_DATA_AND_ALGORITHM and len(spec.warm_start.parents) == 1:
            hyperparameters["resumePreviousJobId"] = spec.warm_start.parents[0]
        else:
            lost.append("warm_start (Cloud ML resumes one job with identical data and algorithm)")
    training_input: dict[str, Any] = {}
    command = spec.training.command
    statics = [part for name, value in spec.training.static_hyperparameters.items() for part in (f"--{name}", value)]
    if len(command) >= 3 and command[0] in ("python", "python3") and command[1] == "-m":
        training_input["pythonModule"] = command[2]
        args = [*command[3:], *map(str, statics)]
        if args:
            training_input["args"] = args
    else:
        lost.append("training.command (give it with --command when loading the config)")
    if statics:
        shown = (
            "written as trainingInput.args" if "pythonModule" in training_input else "not written: no python -m command"
        )
        lost.append(f"training.static_hyperparameters ({shown})")
    if any(m.regex is not None or m.name != spec.objective.metric for m in spec.training.metric_definitions):
        lost.append("training.metric_definitions other than the objective's tag")
    if spec.training.channels:
        lost.append("training.channels")
    training_input["hyperparameters"] = hyperparameters
    return Exported({"jobId": spec.name, "trainingInput": training_input}, lost)


def export_param(name: str, r: Any, lost: list[str]) -> dict[str, Any]:
    """One entry of ``params`` for the native range ``r``."""
    kinds = {v: k for k, v in _TYPES.items()}
    param: dict[str, Any] = {"parameterName": name, "type": kinds[r.type]}
    if r.type in ("Continuous", "Integer"):
        param.update({"minValue": r.min, "maxValue": r.max})
        if r.type == "Continuous" and r.grid_points is not None:
            lost.append(f"ranges.{name}.grid_points")
    elif r.type == "Discrete":
        param["discreteValues"] = list(r.values)
    else:
        if any(not isinstance(v, str) for v in r.values):
            lost.append(f"ranges.{name} (non-text categories, written as text)")
        param["categoricalValues"] = [str(v) for v in r.values]
    if r.type != "Categorical" and r.scaling != "Auto":
        scale = scale_type(name, r.scaling, lost)
        if scale is not None:
            param["scaleType"] = scale
    return param


def scale_type(name: str, scaling: str, lost: list[str]) -> str | None:
    """The ``scaleType`` of a native scaling; SageMaker's ReverseLogarithmic has none (it is left unset)."""
    if scaling == "ReverseLogarithmic":
        lost.append(f"ranges.{name} (SageMaker's ReverseLogarithmic scaling has no Cloud ML or Vertex AI scale)")
        return None
    return {v: k for k, v in SCALES.items() if k != "NONE"}[scaling]


def describe_trials(spec: TuningJobSpec, jobs: list[Any], curves: dict[int, list[Any]]) -> list[dict[str, Any]]:
    """Training jobs as Cloud ML's HyperparameterOutput trials, best first (as Cloud ML lists them).

    Args:
        spec: the tuning job's spec.
        jobs: its training-job records.
        curves: each training job's objective values (``MetricValue``) by training-job id.
    """
    trials = []
    for job in jobs:
        early = job.status == TrainingJobStatus.STOPPED and (job.stop_reason or "").startswith(
            ("early stopping", "Hyperband")
        )
        trial: dict[str, Any] = {
            "trialId": str(job.number),
            "hyperparameters": {name: _text(value) for name, value in job.hyperparameters.items()},
            # Cloud ML counts a trial it stopped early as succeeded, with the flag set.
            "state": "SUCCEEDED" if early else _STATES[job.status],
            "isTrialStoppedEarly": early,
        }
        if job.final_objective is not None:
            steps = [v.step for v in curves.get(job.id, []) if v.value == job.final_objective]
            step = int(steps[-1]) if steps else 0
            trial["finalMetric"] = {"trainingStep": str(step), "objectiveValue": job.final_objective}
        if job.started_at is not None:
            trial["startTime"] = job.started_at.isoformat() + "Z"
        if job.ended_at is not None:
            trial["endTime"] = job.ended_at.isoformat() + "Z"
        trials.append(trial)
    sign = 1.0 if spec.objective.type == ObjectiveType.MINIMIZE else -1.0
    scored = sorted((t for t in trials if "finalMetric" in t), key=lambda t: sign * t["finalMetric"]["objectiveValue"])
    return scored + [t for t in trials if "finalMetric" not in t]


_STATES = {
    TrainingJobStatus.PENDING: "QUEUED",
    TrainingJobStatus.IN_PROGRESS: "RUNNING",
    TrainingJobStatus.STOPPING: "CANCELLING",
    TrainingJobStatus.COMPLETED: "SUCCEEDED",
    TrainingJobStatus.FAILED: "FAILED",
    TrainingJobStatus.STOPPED: "CANCELLED",
}


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


_JOB_STATES = {
    TuningJobStatus.IN_PROGRESS: "RUNNING",
    TuningJobStatus.STOPPING: "CANCELLING",
    TuningJobStatus.COMPLETED: "SUCCEEDED",
    TuningJobStatus.FAILED: "FAILED",
    TuningJobStatus.STOPPED: "CANCELLED",
}


def describe_job(store: Store, name: str) -> dict[str, Any]:
    """A stored tuning job as Cloud ML's Job resource: its config and ``trainingOutput`` with the trials."""
    job = repo.get_tuning_job(store, name)
    spec = TuningJobSpec.model_validate(job.spec)
    jobs = repo.list_training_jobs(store, job.id)
    values = repo.metric_values(store, [j.id for j in jobs])
    curves = {tid: [v for v in found if v.name == spec.objective.metric] for tid, found in values.items()}
    described: dict[str, Any] = {
        "jobId": job.name,
        "trainingInput": export_config(spec).document["trainingInput"],
        "createTime": job.created_at.isoformat() + "Z",
        "state": _JOB_STATES[job.status],
        "trainingOutput": {
            "completedTrialCount": str(sum(j.status.terminal for j in jobs)),
            "trials": describe_trials(spec, jobs, curves),
            "isHyperparameterTuningJob": True,
            "hyperparameterMetricTag": spec.objective.metric,
        },
    }
    if job.ended_at is not None:
        described["endTime"] = job.ended_at.isoformat() + "Z"
    if job.status == TuningJobStatus.FAILED and job.status_reason:
        described["errorMessage"] = job.status_reason
    return described
