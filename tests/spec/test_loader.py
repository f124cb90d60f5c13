"""Spec files: YAML and JSON load with paths resolved; every bad input is one exact SpecError sentence."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from modeltune.errors import SpecError
from modeltune.space import ContinuousRange, IntegerRange
from modeltune.spec import TuningJobSpec, load_spec, parse_spec

VALID: dict[str, Any] = {
    "name": "xgb-tune",
    "training": {
        "command": "python train.py --epochs 3",
        "source_dir": "code",
        "static_hyperparameters": {"objective": "binary:logistic", "verbose": False},
        "metric_definitions": [
            {"name": "validation:auc", "regex": r"validation-auc:([0-9.]+)"},
            {"name": "train:loss", "regex": r"loss=([-0-9.e]+)"},
        ],
        "channels": {"train": "data/train", "validation": "../shared/val"},
    },
    "objective": {"metric": "validation:auc", "type": "Maximize"},
    "ranges": {
        "eta": {"type": "Continuous", "min": 0.001, "max": 0.5, "scaling": "Logarithmic"},
        "max_depth": {"type": "Integer", "min": 2, "max": 10},
    },
    "strategy": "Random",
    "limits": {"max_jobs": 6, "max_parallel_jobs": 2},
    "random_seed": 42,
}


def spec_with(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    change(data)
    return data


def message(data: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as exc_info:
        parse_spec(data, "tune.yaml")
    text = str(exc_info.value)
    assert "\n" not in text  # one sentence, no pydantic dump
    return text


def check_loaded(spec: TuningJobSpec, folder: Path) -> None:
    assert spec.name == "xgb-tune"
    assert spec.training.command == ["python", "train.py", "--epochs", "3"]
    assert spec.training.source_dir == str((folder / "code").resolve())
    assert spec.training.channels == {
        "train": str((folder / "data" / "train").resolve()),
        "validation": str((folder.parent / "shared" / "val").resolve()),
    }
    assert spec.training.static_hyperparameters == {"objective": "binary:logistic", "verbose": False}
    assert [m.name for m in spec.training.metric_definitions] == ["validation:auc", "train:loss"]
    assert spec.objective.metric == "validation:auc" and spec.objective.type == "Maximize"
    assert isinstance(spec.ranges["eta"], ContinuousRange) and spec.ranges["eta"].scaling == "Logarithmic"
    assert isinstance(spec.ranges["max_depth"], IntegerRange)
    assert spec.strategy == "Random"
    assert spec.limits.max_jobs == 6 and spec.limits.max_parallel_jobs == 2
    assert spec.max_jobs == 6
    assert spec.random_seed == 42


def test_yaml_spec_loads_with_paths_relative_to_the_spec_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "tune.yaml").write_text(yaml.safe_dump(VALID))
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    check_loaded(load_spec("project/tune.yaml"), folder)


def test_json_spec_loads_with_paths_relative_to_the_spec_folder(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "tune.json").write_text(json.dumps(VALID))
    check_loaded(load_spec(folder / "tune.json"), folder)


def test_absolute_paths_are_kept_and_source_dir_defaults_to_the_spec_folder(tmp_path: Path) -> None:
    data = spec_with(lambda d: (d["training"].pop("source_dir"), d["training"].update(channels={"train": "/data/x"})))
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(data))
    spec = load_spec(path)
    assert spec.training.source_dir == str(tmp_path.resolve())
    assert spec.training.channels == {"train": "/data/x"}


def test_overrides_replace_top_level_keys(tmp_path: Path) -> None:
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert load_spec(path, {"name": "other", "strategy": None}).name == "other"
    assert load_spec(path, {"name": "other", "strategy": None}).strategy == "Random"


def test_defaults() -> None:
    data = spec_with(lambda d: (d.pop("strategy"), d.pop("limits"), d.pop("random_seed")))
    spec = parse_spec(data)
    assert spec.strategy == "Bayesian"
    assert spec.max_jobs == 20
    assert spec.limits.max_parallel_jobs == 1
    assert spec.training.stop_grace_seconds == 30.0


def test_grid_budget_defaults_to_the_grid_size() -> None:
    data = spec_with(
        lambda d: (d.update(strategy="Grid"), d["limits"].pop("max_jobs"), d["ranges"]["eta"].update(grid_points=3))
    )
    assert parse_spec(data).max_jobs == 3 * 9


def test_spec_is_immutable_and_round_trips_through_a_dict() -> None:
    spec = parse_spec(VALID)
    again = parse_spec(spec.model_dump())
    assert again == spec
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        spec.name = "x"  # type: ignore[misc]


# --- file errors ------------------------------------------------------------------------------------------------


def load_error(tmp_path: Path, filename: str, text: str) -> str:
    path = tmp_path / filename
    path.write_text(text)
    with pytest.raises(SpecError) as exc_info:
        load_spec(path)
    return str(exc_info.value)


def test_malformed_yaml(tmp_path: Path) -> None:
    text = "name: x\ntraining:\n  command: python train.py\n    bad: indent\n"
    assert (
        load_error(tmp_path, "tune.yaml", text)
        == "tune.yaml: line 4: malformed YAML (mapping values are not allowed here)"
    )


def test_malformed_yaml_unclosed_list(tmp_path: Path) -> None:
    text = "name: x\ntraining:\n  command: [python, train.py\nobjective: {}\n"
    assert (
        load_error(tmp_path, "tune.yml", text) == "tune.yml: line 4: malformed YAML (expected ',' or ']', but got ':')"
    )


def test_malformed_json(tmp_path: Path) -> None:
    text = '{\n  "name": "x",\n  "training": ,\n}\n'
    assert load_error(tmp_path, "tune.json", text) == "tune.json: line 3: malformed JSON (Expecting value)"


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_spec_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    assert load_error(tmp_path, "tune.yaml", text) == (
        "tune.yaml: the spec must be a mapping with name, training, objective and ranges"
    )


def test_missing_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as exc_info:
        load_spec(path)
    assert str(exc_info.value) == f"spec file {str(path)!r} does not exist; check the path"


def test_unreadable_spec_path(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc_info:
        load_spec(tmp_path)
    assert str(exc_info.value) == f"{str(tmp_path)!r} is a folder; give the spec file inside it"


def test_file_errors_are_spec_errors_from_the_loader_with_the_file_name(tmp_path: Path) -> None:
    data = spec_with(lambda d: d["limits"].update(max_parallel_jobs=9))
    path = tmp_path / "tune.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError, match=r"^tune\.json: "):
        load_spec(path)


# --- validation errors: the exact sentence ----------------------------------------------------------------------


def test_unknown_field_suggests_the_close_match() -> None:
    assert message(spec_with(lambda d: d["limits"].update(max_paralel_jobs=2))) == (
        "tune.yaml: unknown field 'max_paralel_jobs' at limits.max_paralel_jobs; did you mean 'max_parallel_jobs'?"
    )


def test_unknown_field_in_a_range_suggests_the_close_match() -> None:
    assert message(spec_with(lambda d: d["ranges"]["eta"].update(scalling="Linear"))) == (
        "tune.yaml: unknown field 'scalling' at ranges.eta.scalling; did you mean 'scaling'?"
    )


def test_unknown_field_without_a_close_match_says_remove_it() -> None:
    assert message(spec_with(lambda d: d.update(colour="blue"))) == ("tune.yaml: unknown field 'colour'; remove it")


def test_wrong_type() -> None:
    assert message(spec_with(lambda d: d["limits"].update(max_jobs="many"))) == (
        "tune.yaml: limits.max_jobs: input should be a valid integer, got 'many'"
    )


def test_wrong_literal() -> None:
    assert message(spec_with(lambda d: d["objective"].update(type="Max"))) == (
        "tune.yaml: objective.type: input should be 'Maximize' or 'Minimize', got 'Max'"
    )


def test_min_not_below_max() -> None:
    assert message(spec_with(lambda d: d["ranges"]["max_depth"].update(min=10, max=3))) == (
        "tune.yaml: ranges.max_depth: min (10) must be less than max (3)"
    )


def test_log_scaling_with_min_not_positive() -> None:
    assert message(spec_with(lambda d: d["ranges"]["eta"].update(min=0))) == (
        "tune.yaml: ranges.eta: Logarithmic scaling needs min > 0, got min 0.0; use Linear or raise min"
    )


def test_reverse_log_scaling_message_keeps_the_scaling_name() -> None:
    text = message(spec_with(lambda d: d["ranges"]["eta"].update(min=0.0, max=1.0, scaling="ReverseLogarithmic")))
    assert text == (
        "tune.yaml: ranges.eta: ReverseLogarithmic scaling needs 0 <= min and max < 1, got [0.0, 1.0]; use Linear"
    )


def test_regex_that_does_not_compile() -> None:
    text = message(spec_with(lambda d: d["training"]["metric_definitions"][0].update(regex="auc:([0-9.]+")))
    assert text == (
        "tune.yaml: training.metric_definitions.0.regex: regex 'auc:([0-9.]+' does not compile "
        "(missing ), unterminated subpattern at position 4)"
    )


def test_regex_without_a_capture_group() -> None:
    text = message(spec_with(lambda d: d["training"]["metric_definitions"][1].update(regex="loss=[0-9.]+")))
    assert text == (
        "tune.yaml: training.metric_definitions.1.regex: regex 'loss=[0-9.]+' must have exactly one capture group "
        "for the value, it has 0; wrap the number in parentheses and use (?:...) for other groups"
    )


def test_regex_with_two_capture_groups() -> None:
    text = message(spec_with(lambda d: d["training"]["metric_definitions"][1].update(regex="(loss)=([0-9.]+)")))
    assert "must have exactly one capture group for the value, it has 2" in text


def test_regex_with_a_step_group_and_a_value_group_is_accepted() -> None:
    regex = r"epoch (?P<step>\d+) loss=([0-9.]+)"
    spec = parse_spec(spec_with(lambda d: d["training"]["metric_definitions"][1].update(regex=regex)))
    assert spec.training.metric_definitions[1].regex == regex


def test_objective_metric_not_among_the_definitions() -> None:
    assert message(spec_with(lambda d: d["objective"].update(metric="validation:acc"))) == (
        "tune.yaml: objective metric 'validation:acc' is not among the metric definitions "
        "(validation:auc, train:loss); add a definition for it (without a regex if the training code reports it "
        "with modeltune.report or cloudml-hypertune) or pick one of those"
    )


def test_max_parallel_jobs_above_max_jobs() -> None:
    assert message(spec_with(lambda d: d["limits"].update(max_parallel_jobs=7))) == (
        "tune.yaml: max_parallel_jobs (7) cannot exceed max_jobs (6)"
    )


def test_name_both_tuned_and_static() -> None:
    data = spec_with(lambda d: d["training"]["static_hyperparameters"].update(eta=0.1))
    assert message(data) == (
        "tune.yaml: eta is both tuned and static; remove it from ranges or from static_hyperparameters"
    )


def test_grid_with_continuous_range_lacking_grid_points() -> None:
    assert message(spec_with(lambda d: d.update(strategy="Grid"))) == (
        "tune.yaml: Grid search needs grid_points for the Continuous range 'eta', e.g. grid_points: 5"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("objective"), "objective"),
        (lambda d: d["training"].pop("command"), "training.command"),
        (lambda d: d["ranges"]["eta"].pop("max"), "ranges.eta.max"),
    ],
)
def test_missing_required_field(change: Any, field: str) -> None:
    assert message(spec_with(change)) == f"tune.yaml: {field} is required but missing"


def test_metric_definitions_are_optional_when_the_code_reports_the_objective() -> None:
    spec = parse_spec(spec_with(lambda d: d["training"].pop("metric_definitions")))
    assert spec.training.metric_definitions == []
    declared = spec_with(lambda d: d["training"]["metric_definitions"].append({"name": "validation:acc"}))
    declared["objective"]["metric"] = "validation:acc"
    assert parse_spec(declared).training.metric_definitions[-1].regex is None


def test_unknown_range_type() -> None:
    assert message(spec_with(lambda d: d["ranges"]["eta"].update(type="Float"))) == (
        "tune.yaml: ranges.eta: unknown range type; use one of Continuous, Integer, Categorical, Discrete"
    )


def test_range_without_a_type() -> None:
    assert message(spec_with(lambda d: d["ranges"]["eta"].pop("type"))) == (
        "tune.yaml: ranges.eta: a range needs a type: Continuous, Integer, Categorical or Discrete"
    )


def test_repeated_metric_names() -> None:
    data = spec_with(lambda d: d["training"]["metric_definitions"][1].update(name="validation:auc"))
    assert message(data) == "tune.yaml: training: metric names must be unique, repeated: validation:auc"


def test_bad_categorical_and_discrete_ranges() -> None:
    assert message(spec_with(lambda d: d["ranges"].update(opt={"type": "Categorical", "values": []}))) == (
        "tune.yaml: ranges.opt: values must not be empty"
    )
    assert message(spec_with(lambda d: d["ranges"].update(opt={"type": "Categorical", "values": ["a", "a"]}))) == (
        "tune.yaml: ranges.opt: values must be unique, repeated: 'a'"
    )
    assert message(spec_with(lambda d: d["ranges"].update(bs={"type": "Discrete", "values": [32, 16]}))) == (
        "tune.yaml: ranges.bs: Discrete values must be strictly increasing"
    )


def test_job_name_must_be_usable_in_paths() -> None:
    assert message(spec_with(lambda d: d.update(name="my job/1"))) == (
        "tune.yaml: name: 'my job/1' is not a valid tuning-job name: use 1 to 63 letters, digits, '-' or '_', "
        "starting with a letter or digit"
    )


def test_source_defaults_to_spec_when_parsing_a_dict() -> None:
    with pytest.raises(SpecError, match=r"^spec: objective is required but missing$"):
        parse_spec(spec_with(lambda d: d.pop("objective")))
