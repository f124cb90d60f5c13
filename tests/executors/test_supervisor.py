"""What the local executor's supervisor guarantees through Linux's prctl: it stays the parent of orphaned
descendants (even those that shed the job's token), and with ``die_with_parent`` the job ends with its
starter."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modeltune.executors import LocalExecutor
from modeltune.executors.supervisor import _prctl

from .support import Jobs, process_alive

pytestmark = pytest.mark.skipif(_prctl() is None, reason="prctl is Linux's")


def wait_until_dead(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process_alive(pid)


def test_an_orphan_without_the_token_is_killed_when_the_job_exits(tmp_path: Path) -> None:
    executor = LocalExecutor()
    jobs = Jobs(executor, tmp_path)
    # The grandchild leaves the session and replaces its environment, so only its parent links (to the
    # supervisor, its subreaper, once the child has exited) tie it to the job.
    jobs.launch(
        "orphaner",
        """
        import os, subprocess, sys, time
        sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
        code = f"import os, sys; os.setsid(); os.execve(sys.executable, {sleep!r}, {{}})"
        print(subprocess.Popen([sys.executable, "-c", code], stdout=sys.stdout).pid, flush=True)
        time.sleep(0.5)
        """,
    )
    try:
        assert jobs.wait_exit("orphaner", timeout=10).exit_code == 0
        [pid] = jobs.lines("orphaner")
        assert wait_until_dead(int(pid))
    finally:
        executor.close(grace_seconds=0)


def test_with_die_with_parent_the_job_ends_when_its_starter_is_killed(tmp_path: Path) -> None:
    starter = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from modeltune.executors import JobFiles, LaunchRequest, LocalExecutor
        folder = Path({str(tmp_path)!r})
        files = JobFiles("sleeper", folder / "sleeper.log", folder / "sleeper.control")
        code = "import os, time; print(os.getpid(), flush=True); time.sleep(60)"
        LocalExecutor(die_with_parent=True).launch(LaunchRequest(files, [sys.executable, "-c", code], folder, {{}}))
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", starter])
    log = tmp_path / "sleeper.log"
    deadline = time.monotonic() + 20
    while not (log.exists() and log.read_text().endswith("\n")):
        assert time.monotonic() < deadline, "the training job did not start"
        time.sleep(0.05)
    job = int(log.read_text().split()[0])
    assert process_alive(job)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert wait_until_dead(job)
    assert (tmp_path / "sleeper.control" / "exit.json").exists()
