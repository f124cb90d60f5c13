"""Reading spec files (YAML or JSON) into a validated ``TuningJobSpec``, with one-sentence errors."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from modeltune.errors import SpecError
from modeltune.space import ranges as range_models
from modeltune.spec import models
from modeltune.spec.documents import check_shape, location, read_document, short

_RANGE_TAGS = {"Continuous", "Integer", "Categorical", "Discrete"}


def _known_fields() -> set[str]:
    classes: list[type[BaseModel]] = [
        models.TuningJobSpec,
        models.SearchSettings,
        models.TrainingSpec,
        models.MetricDefinition,
        models.Objective,
        models.Limits,
        models.WarmStart,
        models.CompletionCriteria,
        models.Integrations,
        models.MlflowIntegration,
        models.BestObjectiveNotImproving,
        models.ConvergenceDetected,
        models.EarlyStopping,
        models.HyperbandSettings,
        range_models.ContinuousRange,
        range_models.IntegerRange,
        range_models.CategoricalRange,
        range_models.DiscreteRange,
    ]
    return {name for cls in classes for name in cls.model_fields}


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One sentence for the first problem pydantic found, naming the field and the fix."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"] if str(part) not in _RANGE_TAGS]
    where = location(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        field = loc[-1]
        close = difflib.get_close_matches(field, sorted(_known_fields()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; remove it"
        at = f" at {where}" if len(loc) > 1 else ""
        return f"{source}: unknown field {short(field)}{at}{hint}"
    if kind == "missing":
        return f"{source}: {where} is required but missing"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        return f"{source}: {where}: unknown range type; use one of Continuous, Integer, Categorical, Discrete"
    if kind == "union_tag_not_found":
        return f"{source}: {where}: a range needs a type: Continuous, Integer, Categorical or Discrete"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{source}: {where}: must be a mapping of names to values, got {short(error['input'])}"
    if kind in ("too_short", "too_long"):
        wanted = "at least" if kind == "too_short" else "at most"
        limit = error.get("ctx", {}).get("min_length" if kind == "too_short" else "max_length")
        return f"{source}: {where}: needs {wanted} {limit} item{'s' if limit != 1 else ''}"
    if kind != "value_error":  # pydantic's own wording: lower-case it and show the offending value
        message = message[0].lower() + message[1:]
        if "input" in error and not isinstance(error["input"], dict) and ", got " not in message:
            message = f"{message}, got {short(error['input'])}"
    return f"{source}: {where}: {message}" if loc else f"{source}: {message}"


def parse_spec(data: Mapping[str, Any], source: str = "spec") -> models.TuningJobSpec:
    """Validate a spec given as a dict (already resolved paths)."""
    check_shape(data, source)
    try:
        return models.TuningJobSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc, source)) from None


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping in a YAML or JSON spec file, with relative paths resolved against its folder."""
    path = Path(path)
    data = read_document(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path.name}: the spec must be a mapping with name, training, objective and ranges")
    return resolve_paths(data, path.resolve().parent)


def resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make ``training.source_dir``, the channel paths and an ``output_path`` folder absolute, relative to
    ``base`` (the spec's folder)."""
    training = data.get("training")
    if not isinstance(training, dict):
        return data
    training = dict(training)
    source_dir = (base / str(training.get("source_dir", "."))).resolve()
    training["source_dir"] = str(source_dir)
    channels = training.get("channels")
    if isinstance(channels, dict):
        training["channels"] = {k: str((base / str(v)).resolve()) for k, v in channels.items()}
    output_path = training.get("output_path")
    if isinstance(output_path, str) and output_path and "://" not in output_path:  # a folder, not a URL
        training["output_path"] = str((base / output_path).resolve())
    return {**data, "training": training}


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> models.TuningJobSpec:
    """Read, resolve and validate a spec file; ``overrides`` replace top-level keys (e.g. name)."""
    data = read_spec_file(path)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return parse_spec(data, Path(path).name)
