"""The tuning-job spec (pydantic models) and its loaders."""

from modeltune.spec.loader import load_spec, parse_spec, read_spec_file, resolve_paths
from modeltune.spec.models import (
    CompletionCriteria,
    Limits,
    MetricDefinition,
    Objective,
    TrainingSpec,
    TuningJobSpec,
    WarmStart,
)

__all__ = [
    "CompletionCriteria",
    "Limits",
    "MetricDefinition",
    "Objective",
    "TrainingSpec",
    "TuningJobSpec",
    "WarmStart",
    "load_spec",
    "parse_spec",
    "read_spec_file",
    "resolve_paths",
]
