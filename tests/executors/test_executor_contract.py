"""The executor contract, run against every executor with real subprocesses."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from modeltune.executors import Executor, ExecutorEvent, LaunchRequest

from .support import Jobs, process_alive

WAIT_FOR_FILE = """
    import os, sys, time
    print("ready", flush=True)
    while not os.path.exists(sys.argv[0] + ".go"):
        time.sleep(0.01)
    print("done", flush=True)
"""


class TestExecutorContract:
    def test_lines_arrive_while_the_job_runs_and_go_to_the_log(self, executor: Executor, jobs: Jobs) -> None:
        request = jobs.launch("live", WAIT_FOR_FILE)
        jobs.wait_line("live", "ready")
        assert jobs.exits("live") == []
        assert executor.running() == ["live"]
        assert request.log_path.read_text() == "ready\n"  # written as it arrives, not at the end
        Path(request.argv[1] + ".go").touch()
        exit_event = jobs.wait_exit("live")
        assert exit_event == ExecutorEvent("live", line=None, exit_code=0, error=None)
        assert jobs.lines("live") == ["ready", "done"]
        assert request.log_path.read_text() == "ready\ndone\n"
        assert executor.running() == []

    def test_process_is_still_running_when_its_first_line_arrives(self, executor: Executor, jobs: Jobs) -> None:
        request = jobs.request("alive", WAIT_FOR_FILE)
        pid = executor.launch(request)
        assert isinstance(pid, int)
        jobs.wait_line("alive", "ready")
        assert process_alive(pid)
        Path(request.argv[1] + ".go").touch()
        assert jobs.wait_exit("alive").exit_code == 0
        assert not process_alive(pid)

    def test_stdout_and_stderr_are_both_captured(self, jobs: Jobs) -> None:
        request = jobs.launch(
            "both",
            """
            import sys
            print("to stdout", flush=True)
            print("to stderr", file=sys.stderr, flush=True)
            sys.stdout.write("no newline at the end")
            """,
        )
        jobs.wait_exit("both")
        assert sorted(jobs.lines("both")) == ["no newline at the end", "to stderr", "to stdout"]
        assert sorted(request.log_path.read_text().splitlines()) == ["no newline at the end", "to stderr", "to stdout"]

    def test_exactly_one_exit_event_after_the_last_line(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch("lines", "import sys\nfor i in range(200):\n    print(f'line {i}')\nsys.exit(3)\n")
        jobs.launch("fast", "print('only')\n")
        jobs.wait_exit("lines")
        jobs.wait_exit("fast")
        jobs.events += executor.poll(0.3)
        for name, count, code in (("lines", 200, 3), ("fast", 1, 0)):
            mine = [e for e in jobs.events if e.name == name]
            assert len(mine) == count + 1
            assert [e.is_exit for e in mine] == [False] * count + [True]
            assert mine[-1].exit_code == code and mine[-1].error is None
        assert jobs.lines("lines") == [f"line {i}" for i in range(200)]
        assert executor.running() == []

    def test_environment_and_working_directory(self, jobs: Jobs, tmp_path: Path) -> None:
        jobs.launch(
            "env",
            """
            import os
            print(os.getcwd())
            print(os.environ["MY_SETTING"], os.environ["PYTHONUNBUFFERED"], "PATH" in os.environ)
            """,
            env={"MY_SETTING": "a b=c"},
        )
        assert jobs.wait_exit("env").exit_code == 0
        assert jobs.lines("env") == [str(tmp_path), "a b=c 1 True"]

    def test_non_utf8_output_is_replaced_not_fatal(self, jobs: Jobs) -> None:
        jobs.launch("bytes", "import sys\nsys.stdout.buffer.write(b'caf\\xe9 ok\\r\\n')\n")
        assert jobs.wait_exit("bytes").exit_code == 0
        assert jobs.lines("bytes") == ["caf\ufffd ok"]

    def test_stop_sends_sigterm_and_the_job_can_clean_up(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch(
            "polite",
            """
            import signal, sys, time
            def handle(signum, frame):
                print("got SIGTERM", flush=True)
                sys.exit(0)
            signal.signal(signal.SIGTERM, handle)
            print("ready", flush=True)
            time.sleep(60)
            """,
        )
        jobs.wait_line("polite", "ready")
        started = time.monotonic()
        executor.stop("polite", grace_seconds=30)
        exit_event = jobs.wait_exit("polite", timeout=10)
        assert time.monotonic() - started < 10
        assert exit_event.exit_code == 0
        assert jobs.lines("polite") == ["ready", "got SIGTERM"]

    def test_stop_kills_after_the_grace_period_when_sigterm_is_ignored(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch(
            "stubborn",
            """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            time.sleep(60)
            """,
        )
        jobs.wait_line("stubborn", "ready")
        grace = 0.5
        started = time.monotonic()
        executor.stop("stubborn", grace_seconds=grace)
        exit_event = jobs.wait_exit("stubborn", timeout=grace + 10)
        elapsed = time.monotonic() - started
        assert exit_event.exit_code == -signal.SIGKILL
        assert grace * 0.9 <= elapsed < grace + 2.0

    def test_kill_deadline_holds_during_a_long_poll(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch(
            "stubborn",
            """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            time.sleep(60)
            """,
        )
        jobs.wait_line("stubborn", "ready")
        started = time.monotonic()
        executor.stop("stubborn", grace_seconds=0.3)
        while not jobs.exits("stubborn") and time.monotonic() - started < 10:
            jobs.events += executor.poll(1.5)
        assert jobs.exits("stubborn")[0].exit_code == -signal.SIGKILL
        assert time.monotonic() - started < 1.2

    def test_stop_with_no_grace_kills_at_once(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch("sleeper", "print('ready', flush=True)\nimport time\ntime.sleep(60)\n")
        jobs.wait_line("sleeper", "ready")
        executor.stop("sleeper", grace_seconds=0)
        assert jobs.wait_exit("sleeper", timeout=5).exit_code == -signal.SIGKILL

    def test_stop_reaches_the_jobs_child_processes(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch(
            "parent",
            """
            import subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print(child.pid, flush=True)
            time.sleep(60)
            """,
        )
        jobs.poll_until(lambda _: bool(jobs.lines("parent")))
        child_pid = int(jobs.lines("parent")[0])
        assert process_alive(child_pid)
        executor.stop("parent", grace_seconds=5)
        assert jobs.wait_exit("parent", timeout=10).exit_code == -signal.SIGTERM
        deadline = time.monotonic() + 5
        while process_alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(child_pid)

    def test_children_left_behind_are_killed_when_the_job_exits(self, jobs: Jobs) -> None:
        jobs.launch(
            "leaver",
            """
            import subprocess, sys
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print(child.pid, flush=True)
            """,
        )
        exit_event = jobs.wait_exit("leaver", timeout=10)  # the orphan must not hold the log pipe open
        assert exit_event.exit_code == 0
        child_pid = int(jobs.lines("leaver")[0])
        deadline = time.monotonic() + 5
        while process_alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(child_pid)

    def test_a_command_that_cannot_start_gives_an_exit_event_with_an_error(
        self, executor: Executor, jobs: Jobs, tmp_path: Path
    ) -> None:
        missing = tmp_path / "no-such-program"
        request = LaunchRequest("broken", [str(missing), "--x", "1"], tmp_path, {}, tmp_path / "logs" / "broken.log")
        assert executor.launch(request) is None
        exit_event = jobs.wait_exit("broken", timeout=5)
        assert exit_event.exit_code is None
        assert exit_event.error == f"could not start {str(missing)!r}: No such file or directory"
        assert jobs.lines("broken") == []
        assert request.log_path.read_text() == exit_event.error + "\n"
        assert executor.running() == []

    def test_a_file_that_is_not_executable_gives_an_exit_event_with_an_error(
        self, executor: Executor, jobs: Jobs, tmp_path: Path
    ) -> None:
        script = tmp_path / "train.sh"
        script.write_text("#!/bin/sh\necho hi\n")
        script.chmod(0o644)
        executor.launch(LaunchRequest("noexec", [str(script)], tmp_path, {}, tmp_path / "noexec.log"))
        exit_event = jobs.wait_exit("noexec", timeout=5)
        assert exit_event.error == f"could not start {str(script)!r}: Permission denied"

    def test_stop_of_an_unknown_or_ended_job_is_a_no_op(self, executor: Executor, jobs: Jobs) -> None:
        executor.stop("never-launched", grace_seconds=1)
        jobs.launch("quick", "print('hi')\n")
        assert jobs.wait_exit("quick").exit_code == 0
        executor.stop("quick", grace_seconds=1)
        jobs.events += executor.poll(0.2)
        assert len(jobs.exits("quick")) == 1

    def test_poll_waits_up_to_its_timeout(self, executor: Executor) -> None:
        started = time.monotonic()
        assert executor.poll(0.3) == []
        assert 0.25 <= time.monotonic() - started < 2

    def test_close_stops_everything(self, executor: Executor, jobs: Jobs) -> None:
        requests = [
            jobs.request(f"job-{i}", "print('ready', flush=True)\nimport time\ntime.sleep(60)\n") for i in range(3)
        ]
        pids = [executor.launch(r) for r in requests]
        for r in requests:
            jobs.wait_line(r.name, "ready")
        started = time.monotonic()
        executor.close(grace_seconds=1)
        assert time.monotonic() - started < 5
        assert executor.running() == []
        assert not any(process_alive(pid) for pid in pids if pid is not None)

    def test_log_file_is_appended_to(self, jobs: Jobs) -> None:
        request = jobs.request("appender", "print('second run')\n")
        request.log_path.write_text("first run\n")
        jobs.executor.launch(request)
        jobs.wait_exit("appender")
        assert request.log_path.read_text() == "first run\nsecond run\n"

    def test_log_folder_is_created(self, executor: Executor, jobs: Jobs, tmp_path: Path) -> None:
        request = jobs.request("nested", "print('x')\n")
        nested = LaunchRequest(request.name, request.argv, request.cwd, {}, tmp_path / "a" / "b" / "job.log")
        executor.launch(nested)
        jobs.wait_exit("nested")
        assert nested.log_path.read_text() == "x\n"
        assert os.path.isdir(tmp_path / "a" / "b")
