"""What a new user meets in the first hour: usage errors, separate stores, describe, delete, reporting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, TOY_SCRIPT, modeltune_cli, toy_spec, write_spec


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "Usage: modeltune [OPTIONS] COMMAND [ARGS]..."),
        (("run",), "Missing argument 'SPEC_FILE'"),
        (("no-such-command",), "No such command 'no-such-command'"),
        (("list", "--bogus"), "No such option: --bogus"),
        (("describe",), "Missing argument 'JOB'"),
    ],
)
def test_usage_errors_are_exit_code_2_with_the_usage_hint_not_a_traceback(args: tuple[str, ...], says: str) -> None:
    result = modeltune_cli(*args)

    assert result.returncode == 2
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_jobs_of_the_same_name_in_two_stores_keep_separate_files(home: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, toy_spec(limits={"max_jobs": 1, "max_parallel_jobs": 1}))
    other = f"sqlite:///{tmp_path / 'other' / 'modeltune.db'}"
    modeltune_cli("run", str(spec), check=True)
    modeltune_cli("run", str(spec), "--store", other, check=True)
    logs = sorted(home.glob("jobs/*/toy/toy-001/output.log"))
    assert len(logs) == 2
    assert all(log.read_text().count("epoch 2 loss") == 1 for log in logs)  # never one log appended twice

    modeltune_cli("delete", "toy", "--store", other, "--yes", check=True)

    assert [log.exists() for log in logs].count(True) == 1
    assert (
        json.loads(modeltune_cli("describe", "toy", "--json", check=True).stdout)["TrainingJobStatusCounters"][
            "Completed"
        ]
        == 1
    )


def test_delete_without_a_terminal_says_to_pass_yes(home: Path, tmp_path: Path) -> None:
    modeltune_cli("run", str(write_spec(tmp_path, toy_spec(limits={"max_jobs": 1, "max_parallel_jobs": 1}))))

    result = subprocess.run(
        [sys.executable, "-m", "modeltune", "delete", "toy"], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: delete asks before it removes tuning job 'toy', and there is no terminal to ask on; pass --yes to "
        "delete without asking"
    )
    assert modeltune_cli("describe", "toy").returncode == 0


def test_describe_as_text_shows_the_warm_start_and_the_overall_best(home: Path, tmp_path: Path) -> None:
    modeltune_cli("run", str(write_spec(tmp_path, toy_spec(name="parent", limits={"max_jobs": 3}))), check=True)
    child = toy_spec(name="child", limits={"max_jobs": 2}, completion_criteria={"target_objective_value": 0.0001})
    child["warm_start"] = {"type": "IdenticalDataAndAlgorithm", "parents": ["parent"]}
    modeltune_cli("run", str(write_spec(tmp_path / "c", child)), check=True)

    text = modeltune_cli("describe", "child", check=True).stdout

    assert "Warm start: IdenticalDataAndAlgorithm from parent" in text
    assert "Completion criteria: target 0.0001" in text
    assert "Best training job: child-00" in text
    assert "Overall best (with the parents): " in text
    assert "Active: " in text
    values = [line.split()[-1] for line in text.splitlines() if line.strip().startswith("x ")]
    assert values and all(len(v) <= 12 for v in values)  # 6 significant digits, not 17


def test_a_trainer_that_only_reports_needs_no_regex(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(mode="report", limits={"max_jobs": 2, "max_parallel_jobs": 1})
    del spec["training"]["metric_definitions"]

    result = modeltune_cli("run", str(write_spec(tmp_path, spec)))

    assert result.returncode == 0, result.stderr
    jobs = json.loads(modeltune_cli("training-jobs", "toy", "--json", check=True).stdout)
    assert [j["TrainingJobStatus"] for j in jobs] == ["Completed", "Completed"]


def test_list_shows_a_job_whose_controller_died_as_interrupted(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(mode="sleep", limits={"max_jobs": 1, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"]["seconds"] = 60
    modeltune_cli("run", str(write_spec(tmp_path, spec)), "--detach", check=True)
    import time

    from modeltune.store import Store
    from modeltune.store import repository as repo

    deadline = time.monotonic() + 30
    while not repo.list_training_jobs(Store(), repo.get_tuning_job(Store(), "toy").id) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(repo.get_tuning_job(Store(), "toy").controller_pid, 9)
    time.sleep(0.3)

    listed = modeltune_cli("list", check=True).stdout
    as_json = json.loads(modeltune_cli("list", "--json", check=True).stdout)

    assert "InProgress (interrupted)" in listed
    assert as_json[0]["Interrupted"] is True
    modeltune_cli("stop", "toy", check=True)


def test_the_training_contract_fixture_script_exists() -> None:
    assert TOY_SCRIPT.exists() and FIXTURES.is_dir()
