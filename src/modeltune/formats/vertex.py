"""Vertex AI HyperparameterTuningJob (its ``studySpec``) in and out.

Both shapes users keep are read: the REST resource (``displayName``, ``studySpec``,
``maxTrialCount``, ``parallelTrialCount``, ``maxFailedTrialCount``, ``trialJobSpec``) and the
``gcloud ai hp-tuning-jobs create --config`` file (``studySpec`` and ``trialJobSpec``, with the
counts given as flags, here as ``--max-jobs`` and ``--max-parallel-jobs``). The first worker
pool's ``pythonPackageSpec`` gives the default command ``python -m MODULE ARGS``; machines and
images are listed in the warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from modeltune.core import EarlyStoppingType, StrategyName
from modeltune.formats.cloudml import ALGORITHMS, GOALS, SCALES, scale_type
from modeltune.formats.fields import Fields, Reading
from modeltune.formats.local import Exported, Imported, LocalSettings, lost_settings
from modeltune.spec import TuningJobSpec
from modeltune.spec.documents import read_document

FORM = "Vertex AI"
_SCALES = {"SCALE_TYPE_UNSPECIFIED": "Auto", **{k: v for k, v in SCALES.items() if k != "NONE"}}
_SPECS = {
    "doubleValueSpec": "Continuous",
    "integerValueSpec": "Integer",
    "discreteValueSpec": "Discrete",
    "categoricalValueSpec": "Categorical",
}
_MEASUREMENTS = {
    "MEASUREMENT_SELECTION_TYPE_UNSPECIFIED": "last",
    "LAST_MEASUREMENT": "last",
    "BEST_MEASUREMENT": "best",
}


def load_job(path: Path, local: LocalSettings) -> Imported:
    """Read a HyperparameterTuningJob (or gcloud config) YAML/JSON file as a native spec."""
    return import_job(read_document(path, "job file"), path.name, local)


def import_job(data: Any, source: str, local: LocalSettings) -> Imported:
    """The native spec for a Vertex AI HyperparameterTuningJob given as a dict."""
    reading = Reading(source)
    top = reading.root(data, "studySpec")
    display_name = top.text("displayName")
    study = top.section("studySpec")
    spec = _study(study)
    name = local.name or display_name or re.sub(r"[^A-Za-z0-9_-]", "-", Path(source).stem).strip("-_") or "vertex"
    spec["name"] = name
    reading.origins["name"] = top.at("displayName")
    spec["limits"] = top.trial_limits("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")
    default_command = _trial_job(top.mapping("trialJobSpec"))
    top.unused("labels", "encryptionSpec", "name", "state", "createTime", "startTime", "endTime", "updateTime")
    top.done()
    command = local.command or default_command
    if command is None:
        reading.fail(
            "trialJobSpec", "the job does not name the trainer (pythonPackageSpec.pythonModule); give --command"
        )
    metric = spec["objective"]["metric"]
    spec["training"] = {
        "command": command,
        "source_dir": local.source_dir or str(Path.cwd()),
        "metric_definitions": [{"name": metric}],
        "channels": dict(local.channels),
    }
    return Imported(reading.validate(spec), reading.warning(FORM))


def _study(study: Fields) -> dict[str, Any]:
    reading = study.reading
    metrics = study.mappings("metrics", required=True)
    if len(metrics) != 1:
        reading.fail(study.at("metrics"), f"modeltune tunes one objective metric, got {len(metrics)}; keep one")
    metric = metrics[0]
    spec: dict[str, Any] = {
        "objective": {"metric": metric.required_text("metricId"), "type": metric.choice("goal", GOALS, True)}
    }
    metric.unused("safetyConfig")
    metric.done()
    parameters = study.mappings("parameters", required=True)
    spec["ranges"] = {}
    for parameter in parameters:
        name = parameter.required_text("parameterId")
        spec["ranges"][name] = _parameter(parameter)
        reading.origins[f"ranges.{name}"] = parameter.path
    spec["strategy"] = study.choice("algorithm", ALGORITHMS) or StrategyName.BAYESIAN.value
    reading.origins["strategy"] = study.at("algorithm")
    if study.choice("measurementSelectionType", _MEASUREMENTS) == "best":
        reading.unused.append(f"{study.at('measurementSelectionType')}=BEST_MEASUREMENT (the last value is used)")
    stopping = EarlyStoppingType.OFF.value
    if study.mapping("medianAutomatedStoppingSpec") is not None:
        stopping = EarlyStoppingType.AUTO.value
    for other in ("decayCurveStoppingSpec", "convexAutomatedStoppingSpec"):
        if study.mapping(other) is not None:
            stopping = EarlyStoppingType.AUTO.value
            reading.unused.append(f"{study.at(other)} (modeltune stops by the median rule)")
    spec["early_stopping"] = stopping
    reading.origins["early_stopping"] = study.at("medianAutomatedStoppingSpec")
    study.unused("observationNoise", "studyStoppingConfig")
    study.done()
    return spec


def _parameter(parameter: Fields) -> dict[str, Any]:
    reading = parameter.reading
    if parameter.has("conditionalParameterSpecs"):
        reading.fail(
            parameter.at("conditionalParameterSpecs"),
            "conditional parameters are not supported; tune them as ordinary parameters",
        )
    given = [key for key in _SPECS if parameter.has(key)]
    if len(given) != 1:
        reading.fail(parameter.path, f"give exactly one of {', '.join(_SPECS)}, got {len(given)}")
    kind = _SPECS[given[0]]
    values = parameter.section(given[0])
    result: dict[str, Any] = {"type": kind}
    if kind == "Continuous":
        result.update(min=float(values.number("minValue", True) or 0), max=float(values.number("maxValue", True) or 0))
    elif kind == "Integer":
        result.update(min=values.integer("minValue", True), max=values.integer("maxValue", True))
    else:
        items = values.items("values", required=True)
        for index, item in enumerate(items):
            numeric = isinstance(item, int | float) and not isinstance(item, bool)
            if (kind == "Discrete" and not numeric) or (kind == "Categorical" and not isinstance(item, str)):
                wanted = "a number" if kind == "Discrete" else "text"
                reading.fail(f"{values.at('values')}[{index}]", f"must be {wanted}, got {item!r}")
        result["values"] = items
    values.unused("defaultValue")
    values.done()
    scale = parameter.choice("scaleType", _SCALES)
    if kind == "Categorical" and scale is not None:
        reading.fail(parameter.at("scaleType"), "does not apply to a categorical parameter; remove it")
    if kind != "Categorical":
        result["scaling"] = scale or "Auto"
    parameter.done()
    return result


def _trial_job(trial_job: Fields | None) -> list[str] | None:
    if trial_job is None:
        return None
    command = None
    for index, pool in enumerate(trial_job.mappings("workerPoolSpecs")):
        package = pool.mapping("pythonPackageSpec")
        if package is not None:
            module = package.required_text("pythonModule")
            args = [str(a) for a in package.items("args")]
            if index == 0:
                command = ["python", "-m", module, *args]
            package.unused("executorImageUri", "packageUris", "env")
            package.done()
        pool.unused("machineSpec", "replicaCount", "containerSpec", "diskSpec", "nfsMounts")
        pool.done()
    trial_job.unused("scheduling", "serviceAccount", "network", "baseOutputDirectory", "enableWebAccess")
    trial_job.done()
    return command


def export_job(spec: TuningJobSpec) -> Exported:
    """The HyperparameterTuningJob document for ``spec``."""
    lost = lost_settings(spec, {"limits.max_failed_jobs"})
    study: dict[str, Any] = {
        "metrics": [{"metricId": spec.objective.metric, "goal": spec.objective.type.value.upper()}],
        "parameters": [_export_parameter(name, r, lost) for name, r in spec.ranges.items()],
    }
    algorithm = {v: k for k, v in ALGORITHMS.items()}.get(spec.strategy.value)
    if algorithm is None:
        lost.append(f"strategy {spec.strategy.value} (written as ALGORITHM_UNSPECIFIED, Bayesian)")
        algorithm = "ALGORITHM_UNSPECIFIED"
    study["algorithm"] = algorithm
    study["measurementSelectionType"] = "LAST_MEASUREMENT"
    if spec.early_stopping.type == EarlyStoppingType.AUTO:
        study["medianAutomatedStoppingSpec"] = {"useElapsedDuration": False}
    job: dict[str, Any] = {
        "displayName": spec.name,
        "studySpec": study,
        "maxTrialCount": spec.max_jobs,
        "parallelTrialCount": spec.limits.max_parallel_jobs,
    }
    if spec.limits.max_failed_jobs is not None:
        job["maxFailedTrialCount"] = spec.limits.max_failed_jobs
    command = spec.training.command
    statics = [str(p) for name, value in spec.training.static_hyperparameters.items() for p in (f"--{name}", value)]
    if len(command) >= 3 and command[0] in ("python", "python3") and command[1] == "-m":
        package: dict[str, Any] = {"pythonModule": command[2]}
        if command[3:] or statics:
            package["args"] = [*command[3:], *statics]
        job["trialJobSpec"] = {"workerPoolSpecs": [{"pythonPackageSpec": package}]}
    else:
        lost.append("training.command (give it with --command when loading the job)")
    if statics:
        shown = "written as pythonPackageSpec.args" if "trialJobSpec" in job else "not written: no python -m command"
        lost.append(f"training.static_hyperparameters ({shown})")
    if any(m.regex is not None or m.name != spec.objective.metric for m in spec.training.metric_definitions):
        lost.append("training.metric_definitions other than the objective metric")
    if spec.warm_start is not None:
        lost.append("warm_start")
    if spec.training.channels:
        lost.append("training.channels")
    return Exported(job, lost)


def _export_parameter(name: str, r: Any, lost: list[str]) -> dict[str, Any]:
    parameter: dict[str, Any] = {"parameterId": name}
    if r.type == "Continuous":
        parameter["doubleValueSpec"] = {"minValue": r.min, "maxValue": r.max}
        if r.grid_points is not None:
            lost.append(f"ranges.{name}.grid_points")
    elif r.type == "Integer":
        parameter["integerValueSpec"] = {"minValue": r.min, "maxValue": r.max}
    elif r.type == "Discrete":
        parameter["discreteValueSpec"] = {"values": list(r.values)}
    else:
        if any(not isinstance(v, str) for v in r.values):
            lost.append(f"ranges.{name} (non-text categories, written as text)")
        parameter["categoricalValueSpec"] = {"values": [str(v) for v in r.values]}
    if r.type != "Categorical" and r.scaling != "Auto":
        scale = scale_type(name, r.scaling, lost)
        if scale is not None:
            parameter["scaleType"] = scale
    return parameter
