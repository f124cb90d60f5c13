"""Import, export, import gives an equal spec, for every spec a format can hold (property-based)."""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modeltune.formats import LocalSettings
from modeltune.formats.cloudml import export_config, import_config
from modeltune.formats.registry import dump_yaml
from modeltune.formats.sagemaker import export_request, import_request
from modeltune.formats.vertex import export_job, import_job
from modeltune.spec import TuningJobSpec

SOURCE_DIR = "/srv/code"
names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda n: not n.startswith("sagemaker"))
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def numeric_ranges(draw: st.DrawFn, discrete: bool) -> dict[str, Any]:
    kinds = ["Continuous", "Integer", *(["Discrete"] if discrete else [])]
    kind = draw(st.sampled_from(kinds))
    if kind == "Integer":
        low = draw(st.integers(-1000, 1000))
        high = draw(st.integers(low + 1, low + 10_000))
        positive = ["Logarithmic", *(["MirroredLogarithmic"] if discrete else [])] if low > 0 else []
        scaling = draw(st.sampled_from(["Auto", "Linear", *positive]))
        return {"type": kind, "min": low, "max": high, "scaling": scaling}
    if kind == "Discrete":
        values = sorted(draw(st.sets(st.integers(1, 1000) | st.floats(0.5, 1000), min_size=2, max_size=6)))
        if len(set(map(float, values))) != len(values):
            values = [1, 2, 3]
        scalings = ["Auto", "Linear", "Logarithmic", "MirroredLogarithmic"]
        return {"type": kind, "values": values, "scaling": draw(st.sampled_from(scalings))}
    reverse = "MirroredLogarithmic" if discrete else "ReverseLogarithmic"  # the cloud forms' own reverse log
    scaling = draw(st.sampled_from(["Auto", "Linear", "Logarithmic", reverse]))
    if scaling == "ReverseLogarithmic":
        low = draw(st.floats(0.0, 0.9))
        return {"type": kind, "min": low, "max": draw(st.floats(low + 0.01, 0.999)), "scaling": scaling}
    low = draw(st.floats(1e-6, 1e3)) if scaling.endswith("Logarithmic") else draw(finite)
    high = draw(st.floats(low + max(1e-3, abs(low) * 1e-3), low + 1e6))
    return {"type": kind, "min": low, "max": high, "scaling": scaling}


categorical = st.builds(
    lambda values: {"type": "Categorical", "values": values}, st.lists(texts, min_size=1, max_size=5, unique=True)
)


@st.composite
def specs(draw: st.DrawFn, form: str) -> TuningJobSpec:
    """A valid spec of the settings ``form`` can hold."""
    foreign_cloud = form != "sagemaker"
    ranges = draw(st.dictionaries(names, numeric_ranges(discrete=foreign_cloud) | categorical, min_size=1, max_size=5))
    metric = draw(st.from_regex(r"[a-z][a-z0-9:/_-]{0,20}", fullmatch=True))
    sizes = [r["max"] - r["min"] + 1 if r["type"] == "Integer" else len(r.get("values", ())) for r in ranges.values()]
    gridded = all(r["type"] != "Continuous" for r in ranges.values()) and math.prod(sizes) <= 10_000
    strategies = ["Random", "Bayesian", *(["Grid"] if gridded else [])]
    strategies += ["Hyperband"] if form == "sagemaker" else []
    strategy = draw(st.sampled_from(strategies))
    max_jobs = draw(st.integers(1, 500))
    spec: dict[str, Any] = {
        "name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,30}", fullmatch=True)),
        "objective": {"metric": metric, "type": draw(st.sampled_from(["Maximize", "Minimize"]))},
        "ranges": ranges,
        "strategy": strategy,
        "limits": {"max_jobs": max_jobs, "max_parallel_jobs": draw(st.integers(1, max_jobs))},
    }
    if strategy in ("Random", "Bayesian"):
        spec["early_stopping"] = draw(st.sampled_from(["Off", "Auto"]))
    if form == "sagemaker":
        spec["training"] = draw(_sagemaker_training(metric, set(ranges)))
        if strategy == "Hyperband":
            low = draw(st.integers(1, 10))
            spec["hyperband"] = {"min_resource": float(low), "max_resource": float(draw(st.integers(low + 1, 100)))}
        spec.update(draw(_sagemaker_extras()))
    else:
        module = draw(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?", fullmatch=True))
        args = draw(st.lists(texts, max_size=3))
        spec["training"] = {
            "command": ["python", "-m", module, *args],
            "source_dir": SOURCE_DIR,
            "metric_definitions": [{"name": metric}],
        }
        if draw(st.booleans()):
            spec["limits"]["max_failed_jobs"] = draw(st.integers(1, 100))
    return TuningJobSpec.model_validate(spec)


@st.composite
def _sagemaker_training(draw: st.DrawFn, metric: str, tuned: set[str]) -> dict[str, Any]:
    others = draw(st.dictionaries(names.filter(lambda n: n != metric), st.just(r"(\d+)"), max_size=2))
    return {
        "command": ["python", draw(st.from_regex(r"[a-z_]{1,10}\.py", fullmatch=True))],
        "source_dir": SOURCE_DIR,
        "static_hyperparameters": draw(st.dictionaries(names.filter(lambda n: n not in tuned), texts, max_size=3)),
        "metric_definitions": [
            {"name": metric, "regex": draw(st.sampled_from([None, f"{metric}=([0-9.]+)"]))},
            *({"name": n, "regex": r} for n, r in others.items()),
        ],
        "channels": draw(st.dictionaries(names, st.from_regex(r"/data/[a-z]{1,8}", fullmatch=True), max_size=2)),
        "environment": draw(st.dictionaries(st.from_regex(r"[A-Z_]{1,8}", fullmatch=True), texts, max_size=2)),
        "max_retry_attempts": draw(st.integers(0, 5)),
    }


@st.composite
def _sagemaker_extras(draw: st.DrawFn) -> dict[str, Any]:
    extras: dict[str, Any] = {"random_seed": draw(st.none() | st.integers(0, 2**31))}
    if draw(st.booleans()):
        extras["warm_start"] = {
            "type": draw(st.sampled_from(["IdenticalDataAndAlgorithm", "TransferLearning"])),
            "parents": draw(
                st.lists(st.from_regex(r"parent-[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=5, unique=True)
            ),
        }
    if draw(st.booleans()):
        extras["completion_criteria"] = {
            "target_objective_value": draw(finite),
            "best_objective_not_improving": {"max_number_of_training_jobs_not_improving": draw(st.integers(3, 50))},
            "convergence_detected": {"complete_on_convergence": draw(st.sampled_from(["Enabled", "Disabled"]))},
        }
    return extras


@settings(max_examples=100, deadline=None)
@given(specs("sagemaker"))
def test_sagemaker_requests_round_trip(spec: TuningJobSpec) -> None:
    exported = export_request(spec)
    assert exported.lost == []
    again = import_request(json.loads(json.dumps(exported.document)), "request.json", LocalSettings())
    assert again.warning is None
    assert again.spec == spec


def _no_previous(name: str) -> dict[str, Any]:
    raise AssertionError(name)


@settings(max_examples=100, deadline=None)
@given(specs("cloudml"))
def test_cloudml_configs_round_trip(spec: TuningJobSpec) -> None:
    exported = export_config(spec)
    assert exported.lost == []
    document = yaml.safe_load(dump_yaml(exported.document))
    again = import_config(document, "hptuning_config.yaml", LocalSettings(source_dir=SOURCE_DIR), _no_previous)
    assert again.warning is None
    assert again.spec == spec


@settings(max_examples=100, deadline=None)
@given(specs("vertex"))
def test_vertex_jobs_round_trip(spec: TuningJobSpec) -> None:
    exported = export_job(spec)
    assert exported.lost == []
    document = yaml.safe_load(dump_yaml(exported.document))
    again = import_job(document, "job.yaml", LocalSettings(source_dir=SOURCE_DIR))
    assert again.warning is None
    assert again.spec == spec
