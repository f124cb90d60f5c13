"""The command line against real background jobs: stop, logs, concurrent readers, Ctrl-C, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import modeltune_cli, toy_spec, write_spec


def describe(name: str) -> dict:
    return json.loads(modeltune_cli("describe", name, "--json", check=True).stdout)


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def sleeping_job(tmp_path: Path, **limits) -> Path:
    spec = toy_spec(mode="sleep", limits={"max_jobs": 4, "max_parallel_jobs": 2, **limits})
    spec["training"]["static_hyperparameters"]["seconds"] = 60
    return write_spec(tmp_path, spec)


def running_logs(home: Path, count: int) -> bool:
    logs = sorted(home.glob("jobs/*/toy/toy-*/output.log"))
    return len(logs) >= count and all("loss" in log.read_text() for log in logs[:count])


def test_stop_from_another_terminal_stops_training_jobs_and_the_job(home: Path, tmp_path: Path) -> None:
    started = modeltune_cli("run", str(sleeping_job(tmp_path)), "--detach", check=True)
    assert "Started tuning job toy in the background" in started.stdout
    wait_for(lambda: running_logs(home, 2), what="two training jobs to run")

    stopped = modeltune_cli("stop", "toy", check=True)

    assert stopped.stdout.splitlines() == ["Tuning job toy is Stopping.", "Tuning job toy is Stopped."]
    description = describe("toy")
    assert description["HyperParameterTuningJobStatus"] == "Stopped"
    assert description["TrainingJobStatusCounters"]["Stopped"] == 2
    for log in home.glob("jobs/*/toy/toy-*/output.log"):
        assert "got SIGTERM, saving checkpoint" in log.read_text()
    again = modeltune_cli("stop", "toy")
    assert again.returncode == 2
    assert again.stderr.strip() == "error: tuning job 'toy' already ended (Stopped); there is nothing to stop"


def test_stop_after_the_controller_crashed_keeps_completed_work(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(limits={"max_jobs": 3, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"] = {"mode": "sleep", "seconds": 60}
    spec["ranges"] = {"x": spec["ranges"]["x"]}
    spec_file = write_spec(tmp_path, spec)
    modeltune_cli("run", str(spec_file), "--detach", check=True)
    wait_for(lambda: running_logs(home, 1), what="a training job to run")
    controller_pid = describe_pid("toy")

    os.kill(controller_pid, signal.SIGKILL)
    wait_for(lambda: not _alive(controller_pid), what="the controller to die")
    result = modeltune_cli("stop", "toy", check=True)

    assert result.stdout.splitlines()[-1] == "Tuning job toy is Stopped."
    jobs = json.loads(modeltune_cli("training-jobs", "toy", "--json", check=True).stdout)
    # The training job ran on without its controller; 'stop' re-attached to it and stopped it gracefully.
    assert [j["TrainingJobStatus"] for j in jobs] == ["Stopped"]
    assert jobs[0]["StatusReason"] == "stopped by request"
    assert jobs[0]["FinalHyperParameterTuningJobObjectiveMetric"] is not None
    assert "got SIGTERM, saving checkpoint" in next(home.glob("jobs/*/toy/toy-001/output.log")).read_text()


def describe_pid(name: str) -> int:
    from modeltune.store import Store
    from modeltune.store import repository as repo

    pid = repo.get_tuning_job(Store(), name).controller_pid
    assert pid
    return pid


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/status").read_text().count("zombie")


def test_logs_follow_streams_until_the_training_job_ends(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(mode="sleep", limits={"max_jobs": 1, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"]["seconds"] = 2
    modeltune_cli("run", str(write_spec(tmp_path, spec)), "--detach", check=True)
    wait_for(lambda: running_logs(home, 1), what="the training job to print")

    followed = modeltune_cli("logs", "toy", "toy-001", "--follow", check=True, timeout=60)

    assert followed.stdout.splitlines()[0].startswith("loss: ")
    assert followed.stdout.splitlines()[-1].startswith("epoch 2 loss: ")
    assert describe("toy")["HyperParameterTuningJobStatus"] in ("InProgress", "Completed")


def test_other_processes_read_the_store_while_a_job_writes_to_it(home: Path, tmp_path: Path) -> None:
    spec = toy_spec(limits={"max_jobs": 8, "max_parallel_jobs": 2})
    modeltune_cli("run", str(write_spec(tmp_path, spec)), "--detach", check=True)
    readers = []
    while not readers or describe("toy")["HyperParameterTuningJobStatus"] == "InProgress":
        readers += [
            subprocess.Popen([sys.executable, "-m", "modeltune", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for args in (["list", "--json"], ["training-jobs", "toy", "--json"])
        ]
        time.sleep(0.3)
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
        json.loads(out)
    final = describe("toy")
    assert final["HyperParameterTuningJobStatus"] == "Completed"
    assert final["TrainingJobStatusCounters"]["Completed"] == 8


def test_ctrl_c_stops_a_foreground_job_gracefully(home: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "modeltune", "run", str(sleeping_job(tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: running_logs(home, 2), what="two training jobs to run")

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err  # as an interrupted command, after the graceful stop
    assert "Stopping: running training jobs get SIGTERM" in err
    assert "Tuning job toy Stopped: stopped by request" in out
    assert describe("toy")["TrainingJobStatusCounters"]["Stopped"] == 2


def test_training_jobs_sort_by_objective_best_first(home: Path, tmp_path: Path) -> None:
    modeltune_cli(
        "run", str(write_spec(tmp_path, toy_spec(limits={"max_jobs": 4, "max_parallel_jobs": 2}))), check=True
    )

    jobs = json.loads(modeltune_cli("training-jobs", "toy", "--sort", "objective", "--json", check=True).stdout)
    values = [j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs]

    assert values == sorted(values)  # Minimize: smallest first
    table = modeltune_cli("training-jobs", "toy", "--sort", "objective", check=True).stdout
    assert table.index(jobs[0]["TrainingJobName"]) < table.index(jobs[-1]["TrainingJobName"])
    assert describe("toy")["BestTrainingJob"]["TrainingJobName"] == jobs[0]["TrainingJobName"]
    page = modeltune_cli("training-jobs", "toy", "--sort", "objective", "--limit", "2", "--offset", "1", check=True)
    assert jobs[1]["TrainingJobName"] in page.stdout and jobs[0]["TrainingJobName"] not in page.stdout
    assert "2-3 of 4 training jobs" in page.stdout
