"""The executor contract, run against every executor with real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

from modeltune.core import utcnow
from modeltune.executors import Executor, JobFiles, LaunchRequest

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
        assert request.files.log_path.read_text() == "ready\n"  # written as it arrives, not at the end
        Path(request.argv[1] + ".go").touch()
        exit_event = jobs.wait_exit("live")
        assert (exit_event.is_exit, exit_event.exit_code, exit_event.error) == (True, 0, None)
        assert exit_event.offset == len("ready\ndone\n") and exit_event.ended_at is not None
        assert jobs.lines("live") == ["ready", "done"]
        assert request.files.log_path.read_text() == "ready\ndone\n"
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
        assert sorted(request.files.log_path.read_text().splitlines()) == [
            "no newline at the end",
            "to stderr",
            "to stdout",
        ]

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

    def test_the_command_gets_sigpipe_at_its_default_not_ignored_as_python_has_it(
        self, executor: Executor, jobs: Jobs
    ) -> None:
        # A shell pipeline such as 'yes | head' relies on SIGPIPE ending the writer.
        executor.launch(replace(jobs.request("pipe", ""), argv=["grep", "SigIgn", "/proc/self/status"]))
        assert jobs.wait_exit("pipe", timeout=10).exit_code == 0
        ignored = int(jobs.lines("pipe")[0].split()[1], 16)
        assert not ignored & (1 << (signal.SIGPIPE - 1))

    def test_following_jobs_to_their_end_leaves_no_file_descriptor_open(self, jobs: Jobs) -> None:
        # A controller follows thousands of training jobs: what it opens per job must be closed again.
        jobs.launch("warm-up", "print('ok')")
        jobs.wait_exit("warm-up")
        before = len(os.listdir("/proc/self/fd"))
        for index in range(5):
            jobs.launch(f"short-{index}", "import time; time.sleep(0.2)")
        for index in range(5):
            jobs.wait_exit(f"short-{index}")
        assert len(os.listdir("/proc/self/fd")) == before

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
        request = LaunchRequest(jobs.files("broken"), [str(missing), "--x", "1"], tmp_path, {})
        executor.launch(request)
        exit_event = jobs.wait_exit("broken", timeout=5)
        assert exit_event.exit_code is None
        assert exit_event.error == f"could not start {str(missing)!r}: No such file or directory"
        assert jobs.lines("broken") == [exit_event.error]  # also in the log, where the user looks
        assert request.files.log_path.read_text() == exit_event.error + "\n"
        assert executor.running() == []

    def test_a_missing_working_directory_gives_an_exit_event_with_an_error(
        self, executor: Executor, jobs: Jobs, tmp_path: Path
    ) -> None:
        executor.launch(LaunchRequest(jobs.files("nowhere"), ["true"], tmp_path / "missing", {}))
        exit_event = jobs.wait_exit("nowhere", timeout=5)
        assert (
            exit_event.error
            == f"could not start the training job in {str(tmp_path / 'missing')!r}: No such file or directory"
        )

    def test_a_file_that_is_not_executable_gives_an_exit_event_with_an_error(
        self, executor: Executor, jobs: Jobs, tmp_path: Path
    ) -> None:
        script = tmp_path / "train.sh"
        script.write_text("#!/bin/sh\necho hi\n")
        script.chmod(0o644)
        executor.launch(LaunchRequest(jobs.files("noexec"), [str(script)], tmp_path, {}))
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
        request.files.log_path.write_text("first run\n")
        jobs.executor.launch(request)
        jobs.wait_exit("appender")
        assert request.files.log_path.read_text() == "first run\nsecond run\n"
        assert jobs.lines("appender") == ["second run"]

    def test_log_folder_is_created(self, executor: Executor, jobs: Jobs, tmp_path: Path) -> None:
        request = jobs.request("nested", "print('x')\n")
        files = JobFiles("nested", tmp_path / "a" / "b" / "job.log", tmp_path / "c")
        executor.launch(LaunchRequest(files, request.argv, request.cwd, {}))
        jobs.wait_exit("nested")
        assert files.log_path.read_text() == "x\n"
        assert os.path.isdir(tmp_path / "a" / "b")

    def test_a_child_that_leaves_the_session_is_stopped_too(self, executor: Executor, jobs: Jobs) -> None:
        jobs.launch(
            "escaper",
            """
            import os, subprocess, sys, time
            child = subprocess.Popen(
                [sys.executable, "-c", "import os, time; os.setsid(); time.sleep(60)"], stdout=sys.stdout
            )
            print(child.pid, flush=True)
            time.sleep(60)
            """,
        )
        jobs.poll_until(lambda _: bool(jobs.lines("escaper")))
        child_pid = int(jobs.lines("escaper")[0])
        time.sleep(0.3)  # let the child call setsid
        started = time.monotonic()
        executor.stop("escaper", grace_seconds=1)
        jobs.wait_exit("escaper", timeout=10)
        while process_alive(child_pid) and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert not process_alive(child_pid)
        assert time.monotonic() - started < 1 + 1.5  # the grace period plus a second, and some slack

    def test_a_daemon_left_behind_in_its_own_session_is_killed_when_the_job_exits(self, jobs: Jobs) -> None:
        jobs.launch(
            "daemoniser",
            """
            import subprocess, sys, time
            code = "import os, time; os.setsid(); time.sleep(60)"
            print(subprocess.Popen([sys.executable, "-c", code], stdout=sys.stdout).pid, flush=True)
            time.sleep(0.5)  # the child has called setsid by now
            """,
        )
        assert jobs.wait_exit("daemoniser", timeout=10).exit_code == 0
        lines = jobs.lines("daemoniser")
        deadline = time.monotonic() + 5
        while lines and process_alive(int(lines[0])) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lines and not process_alive(int(lines[0]))


class TestReattaching:
    """Training jobs outlive the executor that launched them; a new one follows them on."""

    def test_a_new_executor_follows_a_running_job_from_where_the_old_one_stopped(
        self, executor: Executor, jobs: Jobs
    ) -> None:
        request = jobs.launch("long", WAIT_FOR_FILE)
        jobs.wait_line("long", "ready")
        offset = jobs.events[-1].offset
        successor = type(executor)()
        try:
            assert successor.attach(request.files, offset)
            Path(request.argv[1] + ".go").touch()
            after = Jobs(successor, jobs.folder)
            exit_event = after.wait_exit("long")
            assert after.lines("long") == ["done"]
            assert exit_event.exit_code == 0
        finally:
            successor.close()

    def test_a_job_that_ended_while_nobody_followed_it_reports_its_rest_and_its_real_end(
        self, executor: Executor, jobs: Jobs
    ) -> None:
        request = jobs.launch("brief", "import sys\nprint('one', flush=True)\nprint('two')\nsys.exit(4)\n")
        deadline = time.monotonic() + 10
        while not (request.files.control_dir / "exit.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        successor = type(executor)()
        assert successor.attach(request.files, len("one\n"))
        after = Jobs(successor, jobs.folder)
        exit_event = after.wait_exit("brief")
        assert after.lines("brief") == ["two"]
        assert exit_event.exit_code == 4
        assert exit_event.ended_at is not None and (utcnow() - exit_event.ended_at).total_seconds() >= 0.15

    def test_a_job_whose_supervisor_was_killed_is_reported_lost_and_its_process_killed(
        self, executor: Executor, jobs: Jobs
    ) -> None:
        request = jobs.launch("orphan", "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n")
        jobs.poll_until(lambda _: bool(jobs.lines("orphan")))
        training_pid = int(jobs.lines("orphan")[0])
        supervisor = json.loads((request.files.control_dir / "supervisor.json").read_text())["pid"]
        os.kill(supervisor, signal.SIGKILL)
        exit_event = jobs.wait_exit("orphan", timeout=10)
        assert exit_event.exit_code is None and exit_event.error is not None and exit_event.error.startswith("lost:")
        deadline = time.monotonic() + 5
        while process_alive(training_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(training_pid)

    def test_a_job_that_never_started_cannot_be_attached(self, executor: Executor, jobs: Jobs) -> None:
        assert executor.attach(jobs.files("never"), 0) is False
        assert executor.running() == []
