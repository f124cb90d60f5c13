"""Chaos: a tuning job of many short training jobs while its controller and training processes are killed.

Each round waits a random moment, checks that every training job completed so far is
still there with its values, SIGKILLs the controller (and, at random, one training
process), then resumes the job (on some rounds with two ``resume`` commands racing). At
the end it checks what a user relies on: no completed work lost, nothing counted twice,
never more than ``max_parallel_jobs`` training jobs at once, no process left behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

TRAIN = textwrap.dedent(
    """
    import argparse, time
    parser = argparse.ArgumentParser()
    parser.add_argument("-x", "--x", type=float)
    parser.add_argument("--seconds", type=float)
    args, _ = parser.parse_known_args()
    loss = (args.x - 0.3) ** 2
    for step in (1, 2, 3):
        time.sleep(args.seconds / 3)
        print(f"step {step} loss: {loss + 1.0 / step}", flush=True)
    """
)


@dataclass
class Report:
    """What one chaos run measured."""

    rounds: int = 0
    racing_rounds: int = 0
    training_processes_killed: int = 0
    completed_lost: int = 0
    values_changed: int = 0
    duplicates: int = 0
    counted: int = 0
    max_jobs: int = 0
    most_at_once: int = 0
    max_parallel_jobs: int = 0
    wasted_by_controller_crashes: int = 0
    failed: int = 0
    retried: int = 0
    status: str = ""
    survivors: list[str] = field(default_factory=list)
    reattach_seconds: list[float] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every broken promise, as a sentence (empty when the run is clean)."""
        found = []
        if self.completed_lost or self.values_changed:
            found.append(f"{self.completed_lost} completed jobs lost, {self.values_changed} changed their values")
        if self.duplicates:
            found.append(f"{self.duplicates} configurations ran twice outside retries")
        if self.counted != self.max_jobs:
            found.append(f"{self.counted} training jobs counted against a budget of {self.max_jobs}")
        if self.most_at_once > self.max_parallel_jobs:
            found.append(f"{self.most_at_once} training jobs ran at once (limit {self.max_parallel_jobs})")
        if self.wasted_by_controller_crashes:
            found.append(f"{self.wasted_by_controller_crashes} training jobs were lost to controller crashes")
        if self.status != "Completed":
            found.append(f"the tuning job ended {self.status}")
        if self.survivors:
            found.append(f"processes outlived the run: {self.survivors}")
        return found


def modeltune(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line."""
    return subprocess.run(
        [sys.executable, "-m", "modeltune", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _store_view(env: dict[str, str], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The tuning job and its training jobs as the store has them."""
    from modeltune.store import Store
    from modeltune.store import repository as repo

    home = env["MODELTUNE_HOME"]
    store = Store(f"sqlite:///{home}/modeltune.db", home=home)
    try:
        job = repo.get_tuning_job(store, name)
        jobs = repo.list_training_jobs(store, job.id)
        values = repo.metric_values(store, [j.id for j in jobs])
    finally:
        store.dispose()
    rows = [
        {
            "id": j.id,
            "name": j.name,
            "status": str(j.status),
            "x": j.hyperparameters["x"],
            "objective": j.final_objective,
            "values": len(values[j.id]),
            "started": j.started_at,
            "ended": j.ended_at,
            "retry_of": j.retry_of,
            "reason": j.status_reason,
        }
        for j in jobs
    ]
    return {"status": str(job.status), "pid": job.controller_pid}, rows


def _training_processes(script: Path) -> list[int]:
    """Pids of running training processes of this run (their command line names the script)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and str(script).encode() in argv and b"-I" not in argv:
            found.append(int(entry))
    return found


def _leftovers(folder: Path) -> list[str]:
    """Processes of this run still alive: supervisors, training processes or controllers."""
    marker = str(folder).encode()
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in argv:
            alive.append(argv.replace(b"\0", b" ").decode(errors="replace")[:160])
    return alive


def _most_at_once(rows: list[dict[str, Any]]) -> int:
    """The largest number of training jobs whose recorded [start, end] intervals overlap."""
    edges = []
    for row in rows:
        if row["started"] is not None and row["ended"] is not None:
            edges += [(row["started"], 1), (row["ended"], -1)]
    running = most = 0
    for _, change in sorted(edges, key=lambda e: (e[0], e[1])):
        running += change
        most = max(most, running)
    return most


def _reattach_seconds(log: Path, resumed_at: float, timeout: float = 60.0) -> float | None:
    """Seconds from a resume command to its controller's 're-attached' line in the controller log
    (waiting for it up to ``timeout``); None when no controller re-attached in that time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines()[::-1]:
            stamp, _, message = line.partition(" ")
            try:
                moment = float(stamp)
            except ValueError:
                continue
            if moment < resumed_at:
                break
            if "re-attached to" in message:
                return moment - resumed_at
        time.sleep(0.1)
    return None


def run_chaos(
    folder: Path,
    max_jobs: int = 200,
    max_parallel_jobs: int = 4,
    max_rounds: int = 25,
    seed: int = 0,
    job_seconds: tuple[float, float] = (0.3, 1.2),
    pause_seconds: tuple[float, float] = (1.0, 3.0),
    kill_training_probability: float = 0.3,
    race_every: int = 4,
) -> Report:
    """Run one chaos experiment in ``folder`` (its own modeltune home) and report what held."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "train.py"
    script.write_text(TRAIN)
    spec = {
        "name": "chaos",
        "training": {
            "command": ["python", str(script)],
            "source_dir": str(folder),
            "metric_definitions": [{"name": "loss", "regex": r"loss: ([0-9.]+)"}],
            "stop_grace_seconds": 2,
            "max_retry_attempts": 3,
        },
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {
            "x": {"type": "Continuous", "min": 0.0, "max": 1.0},
            "seconds": {"type": "Continuous", "min": job_seconds[0], "max": job_seconds[1]},
        },
        "strategy": "Random",
        "limits": {"max_jobs": max_jobs, "max_parallel_jobs": max_parallel_jobs},
        "random_seed": seed,
    }
    spec_file = folder / "chaos.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "MODELTUNE_HOME": str(folder / "home")}
    env.pop("MODELTUNE_STORE", None)
    started = modeltune(env, "run", str(spec_file), "--detach")
    if started.returncode != 0:
        raise RuntimeError(started.stderr)
    report = Report(max_jobs=max_jobs, max_parallel_jobs=max_parallel_jobs)
    completed: dict[str, tuple[float, int]] = {}
    log = next((folder / "home" / "jobs").glob("*/chaos/controller.log"), None)
    while report.rounds < max_rounds:
        time.sleep(rng.uniform(*pause_seconds))
        job, rows = _store_view(env, "chaos")
        _check_completed(report, completed, rows)
        if job["status"] not in ("InProgress", "Stopping"):
            break
        report.rounds += 1
        if job["pid"]:
            try:
                os.kill(job["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        victims = _training_processes(script)
        if victims and rng.random() < kill_training_probability:
            os.kill(rng.choice(victims), signal.SIGKILL)
            report.training_processes_killed += 1
        time.sleep(0.2)
        resumed_at = time.time()
        racing = race_every and report.rounds % race_every == 0
        commands = [["resume", "chaos", "--detach"]] * (2 if racing else 1)
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "modeltune", *c], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for c in commands
        ]
        for process in processes:
            process.communicate(timeout=120)
        report.racing_rounds += bool(racing)
        log = log or next((folder / "home" / "jobs").glob("*/chaos/controller.log"), None)
        seconds = _reattach_seconds(log, resumed_at) if log else None
        if seconds is not None:
            report.reattach_seconds.append(round(seconds, 3))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job, rows = _store_view(env, "chaos")
        if job["status"] not in ("InProgress", "Stopping"):
            break
        time.sleep(0.5)
    _check_completed(report, completed, rows)
    _final_checks(report, job, rows)
    time.sleep(1.0)
    report.survivors = _leftovers(folder)
    return report


def _check_completed(report: Report, completed: dict[str, tuple[float, int]], rows: list[dict[str, Any]]) -> None:
    """Every training job seen completed before must still be there, with the same value and curve."""
    now = {r["name"]: r for r in rows}
    for name, (objective, values) in completed.items():
        row = now.get(name)
        if row is None or row["status"] != "Completed":
            report.completed_lost += 1
        elif (row["objective"], row["values"]) != (objective, values):
            report.values_changed += 1
    completed.update({r["name"]: (r["objective"], r["values"]) for r in rows if r["status"] == "Completed"})


def _final_checks(report: Report, job: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    report.status = job["status"]
    retries = {r["retry_of"] for r in rows if r["retry_of"] is not None}
    report.retried = len(retries)
    report.counted = sum(1 for r in rows if r["retry_of"] is None)
    report.failed = sum(1 for r in rows if r["status"] == "Failed")
    originals = [r["x"] for r in rows if r["retry_of"] is None]
    report.duplicates = len(originals) - len(set(originals))
    report.most_at_once = _most_at_once(rows)
    # A controller crash must never cost a training job: only killed training processes may fail.
    report.wasted_by_controller_crashes = sum(
        1 for r in rows if r["status"] == "Failed" and not (r["reason"] or "").startswith("killed by signal 9")
    )


def main() -> None:
    """``python -m benchmarks.chaos.driver OUT_FOLDER [ROUNDS]``: one run, its report as JSON."""
    out = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    report = run_chaos(out / "run", max_rounds=rounds)
    print(json.dumps(asdict(report), indent=2, default=str))


if __name__ == "__main__":
    main()
