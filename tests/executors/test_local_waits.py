"""How the local executor waits: a worker with a free slot wakes when work is announced, not on a timer."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from modeltune.executors import LocalExecutor

from .support import Jobs
from .test_executor_contract import WAIT_FOR_FILE


def test_a_readable_wake_descriptor_ends_a_wait_while_jobs_run(tmp_path: Path) -> None:
    executor = LocalExecutor()
    jobs = Jobs(executor, tmp_path)
    request = jobs.launch("busy", WAIT_FOR_FILE)
    jobs.wait_line("busy", "ready")
    readable, writable = os.pipe()
    try:
        executor.wake_fd = readable  # as a worker's notice connection: work waits for its free slot
        threading.Timer(0.3, os.write, (writable, b"!")).start()
        started = time.monotonic()
        assert executor.poll(10.0) == []
        assert 0.2 < time.monotonic() - started < 5.0  # woken by the descriptor, not by the 10 s timeout
        executor.wake_fd = None
        Path(request.argv[1] + ".go").touch()
        assert jobs.wait_exit("busy").exit_code == 0
    finally:
        os.close(readable)
        os.close(writable)
        executor.close(grace_seconds=0)
