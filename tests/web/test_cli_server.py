"""``modeltune --server URL ...``: the command line through a server's REST API, with no store of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modeltune.store import repository as repo

from .support import WebServer, quick_spec, slow_spec, stop_controllers, wait_for, web_server
from helpers import write_spec

TOKEN = "s3cret-token-for-tests"


def cli(
    laptop: Path, *args: str, server: str | None = None, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line on a "laptop": an empty MODELTUNE_HOME, no store URL, the server in the environment."""
    env = {**os.environ, "MODELTUNE_HOME": str(laptop), "COLUMNS": "200"}
    for name in ("MODELTUNE_STORE", "MODELTUNE_SERVER", "MODELTUNE_TOKEN"):
        env.pop(name, None)
    env.update({k: v for k, v in (("MODELTUNE_SERVER", server), ("MODELTUNE_TOKEN", token)) if v})
    return subprocess.run(
        [sys.executable, "-m", "modeltune", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def laptop(tmp_path: Path) -> Path:
    """The CLI's MODELTUNE_HOME: empty, and still empty after each test (no local store was made)."""
    folder = tmp_path / "laptop"
    folder.mkdir()
    yield folder
    assert list(folder.iterdir()) == []


def test_a_tuning_job_runs_and_is_inspected_through_the_server(server: WebServer, laptop: Path, tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path / "specs", quick_spec("remote", max_jobs=3))
    started = ok(cli(laptop, "--server", server.url, "run", str(spec_file)))
    assert f"Started tuning job remote on {server.url}." in started
    assert "Follow it with: modeltune describe remote" in started
    wait_for(lambda: repo.get_tuning_job(server.store, "remote").terminal, timeout=90)

    listed = ok(cli(laptop, "list", server=server.url))
    assert "remote" in listed and "Completed" in listed and "Minimize loss" in listed and "3/3" in listed
    (summary,) = json.loads(ok(cli(laptop, "--server", server.url, "list", "--json")))
    assert summary["HyperParameterTuningJobName"] == "remote" and summary["TrainingJobsFailed"] == 0

    described = ok(cli(laptop, "describe", "remote", server=server.url))
    assert described.startswith("remote  Completed") and "Best training job: remote-" in described
    assert json.loads(ok(cli(laptop, "describe", "remote", "--json", server=server.url)))["BestTrainingJob"]

    table = ok(cli(laptop, "training-jobs", "remote", "--sort", "objective", "--limit", "1", server=server.url))
    assert "kind" in table and "1-1 of 3 training jobs" in table
    listed_jobs = json.loads(ok(cli(laptop, "training-jobs", "remote", "--json", server=server.url)))
    assert [j["TrainingJobName"] for j in listed_jobs] == ["remote-001", "remote-002", "remote-003"]
    assert listed_jobs[0]["ObjectiveCurve"]

    log = ok(cli(laptop, "logs", "remote", "1", server=server.url))
    assert "loss:" in log and ok(cli(laptop, "logs", "remote", "remote-001", "--follow", server=server.url)) == log
    spec = yaml.safe_load(ok(cli(laptop, "spec", "remote", server=server.url)))
    assert spec["name"] == "remote" and spec["limits"]["max_jobs"] == 3

    assert ok(cli(laptop, "delete", "remote", "--yes", server=server.url)) == "Deleted tuning job remote.\n"
    assert "No tuning jobs yet" in ok(cli(laptop, "list", server=server.url))


def test_stop_and_resume_go_through_the_server(server: WebServer, laptop: Path, tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path / "specs", slow_spec("sleepy", seconds=60))
    ok(cli(laptop, "run", str(spec_file), server=server.url))
    wait_for(lambda: repo.list_training_jobs(server.store, repo.get_tuning_job(server.store, "sleepy").id), timeout=60)

    stopped = ok(cli(laptop, "stop", "sleepy", server=server.url))
    assert stopped.splitlines()[-1] == "Tuning job sleepy is Stopped."
    resumed = ok(cli(laptop, "resume", "sleepy", "--max-jobs", "3", server=server.url))
    assert resumed.startswith("Tuning job sleepy is ") and "Follow it with: modeltune describe sleepy" in resumed
    stop_controllers(server.store)


def test_an_unreachable_server_is_one_line(laptop: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(laptop, "--server", f"http://127.0.0.1:{port}", "list")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot reach the modeltune server at http://127.0.0.1:{port}")
    assert len(result.stderr.splitlines()) == 1


def test_a_wrong_token_is_one_line(tmp_path: Path, laptop: Path) -> None:
    with web_server(tmp_path / "home", "--token", TOKEN) as running:
        refused = cli(laptop, "list", server=running.url, token="not-the-token")
        accepted = cli(laptop, "--server", running.url, "--token", TOKEN, "list")
    assert refused.returncode == 2
    assert refused.stderr == "error: this server needs its token: send the header 'Authorization: Bearer <token>'\n"
    assert "No tuning jobs yet" in ok(accepted)


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["plot", "a"], "modeltune plot"),
        (["export", "a"], "modeltune export"),
        (["worker"], "modeltune worker"),
        (["deploy", "a"], "serving a tuning job's model"),
    ],
)
def test_commands_that_need_the_store_say_so(laptop: Path, args: list[str], what: str) -> None:
    result = cli(laptop, *args, server="http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {what} needs direct access to the store and does not work through --server; "
        "run it where the store is, without --server and MODELTUNE_SERVER\n"
    )


def test_a_server_that_is_not_a_url_is_named(laptop: Path) -> None:
    result = cli(laptop, "--server", "tuning.example:8600", "list")
    assert result.returncode == 2
    assert result.stderr == (
        "error: --server 'tuning.example:8600' is not a server's URL; give one like http://host:8600\n"
    )
