"""Every user mistake on the command line: one clear sentence, exit code 2, no traceback, store intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import modeltune_cli, toy_spec, write_spec


def assert_one_line_error(result, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.stderr + result.stdout


def spec_with(**changes) -> dict:
    spec = toy_spec()
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = spec
        for key in parents:
            node = node[key]
        node[leaf] = value
    return spec


BAD_SPECS = [
    (
        spec_with(limits={"max_jobs": 4, "max_paralel_jobs": 2}),
        "spec.yaml: unknown field 'max_paralel_jobs' at limits.max_paralel_jobs; did you mean 'max_parallel_jobs'?",
    ),
    (
        spec_with(limits={"max_jobs": "many"}),
        "spec.yaml: limits.max_jobs: input should be a valid integer, got 'many'",
    ),
    (
        spec_with(ranges__k={"type": "Integer", "min": 5, "max": 2}),
        "spec.yaml: ranges.k: min (5) must be less than max (2)",
    ),
    (
        spec_with(ranges__x={"type": "Continuous", "min": 0.0, "max": 1.0, "scaling": "Logarithmic"}),
        "spec.yaml: ranges.x: Logarithmic scaling needs min > 0, got min 0.0; use Linear or raise min",
    ),
    (
        spec_with(training__metric_definitions=[{"name": "loss", "regex": "loss: ([0-9.]+"}]),
        "spec.yaml: training.metric_definitions.0.regex: regex 'loss: ([0-9.]+' does not compile "
        "(missing ), unterminated subpattern at position 6)",
    ),
    (
        spec_with(training__metric_definitions=[{"name": "loss", "regex": "loss: [0-9.]+"}]),
        "spec.yaml: training.metric_definitions.0.regex: regex 'loss: [0-9.]+' must have exactly one capture "
        "group for the value, it has 0; wrap the number in parentheses and use (?:...) for other groups",
    ),
    (
        spec_with(objective={"metric": "accuracy", "type": "Maximize"}),
        "spec.yaml: objective metric 'accuracy' is not among the metric definitions (loss); add a definition for "
        "it (without a regex if the training code reports it with modeltune.report or cloudml-hypertune) or pick "
        "one of those",
    ),
    (
        spec_with(limits={"max_jobs": 2, "max_parallel_jobs": 3}),
        "spec.yaml: max_parallel_jobs (3) cannot exceed max_jobs (2)",
    ),
    (
        spec_with(training__command=["no-such-trainer", "--fast"]),
        "training command 'no-such-trainer' was not found on PATH; check training.command",
    ),
]


@pytest.mark.parametrize(("spec", "message"), BAD_SPECS, ids=[m[:50] for _, m in BAD_SPECS])
def test_a_bad_spec_is_one_sentence_and_exit_code_2(home: Path, tmp_path: Path, spec: dict, message: str) -> None:
    result = modeltune_cli("run", str(write_spec(tmp_path, spec)))

    assert_one_line_error(result, message)


def test_malformed_yaml_names_the_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("name: toy\ntraining: {command: [python\nranges: {}\n")

    assert_one_line_error(
        modeltune_cli("run", str(path)), "spec.yaml: line 3: malformed YAML (expected ',' or ']', but got ':')"
    )


def test_malformed_json_names_the_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"name": "toy",\n "training": }')

    assert_one_line_error(modeltune_cli("run", str(path)), "spec.json: line 2: malformed JSON (Expecting value)")


def test_a_json_spec_runs_like_yaml(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(toy_spec(limits={"max_jobs": 1})))

    result = modeltune_cli("run", str(path))

    assert result.returncode == 0, result.stderr
    assert "Tuning job toy Completed" in result.stdout


def test_unknown_job_names_suggest_the_close_one_and_keep_the_store(home: Path, tmp_path: Path) -> None:
    modeltune_cli("run", str(write_spec(tmp_path, toy_spec(limits={"max_jobs": 1}))), check=True)

    assert_one_line_error(
        modeltune_cli("describe", "tyo"), "no tuning job named 'tyo' in the store; did you mean 'toy'?"
    )
    assert_one_line_error(
        modeltune_cli("logs", "toy", "toy-009"),
        "tuning job 'toy' has no training job 'toy-009'; did you mean 'toy-001'?",
    )
    listed = json.loads(modeltune_cli("list", "--json", check=True).stdout)
    assert [(j["HyperParameterTuningJobName"], j["HyperParameterTuningJobStatus"]) for j in listed] == [
        ("toy", "Completed")
    ]


def test_a_name_already_taken_is_refused_without_touching_the_first_job(home: Path, tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path, toy_spec(limits={"max_jobs": 1}))
    modeltune_cli("run", str(spec_file), check=True)
    before = json.loads(modeltune_cli("describe", "toy", "--json", check=True).stdout)

    assert_one_line_error(
        modeltune_cli("run", str(spec_file)),
        "a tuning job named 'toy' already exists in the store; choose a new name (e.g. --name toy-2)",
    )
    assert json.loads(modeltune_cli("describe", "toy", "--json", check=True).stdout) == before


def test_a_store_that_cannot_be_written_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store folder should be")
    monkeypatch.setenv("MODELTUNE_HOME", str(blocker / "home"))

    result = modeltune_cli("list")

    assert_one_line_error(
        result,
        f"cannot create the folder '{blocker / 'home'}' (Not a directory); choose a writable "
        "location with MODELTUNE_HOME or --store",
    )


def test_a_missing_spec_file_is_one_sentence(home: Path) -> None:
    assert_one_line_error(
        modeltune_cli("run", "nowhere.yaml"), "spec file 'nowhere.yaml' does not exist; check the path"
    )
