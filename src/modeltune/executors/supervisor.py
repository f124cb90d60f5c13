"""The supervisor: the process that runs one training job on its machine, apart from any controller.

``python -I -S -c LAUNCH [--die-with-parent | --detach] CONTROL_DIR LOG_PATH -- ARGV...`` (``LAUNCH`` imports
this module from its folder, without the rest of modeltune: it needs only the standard library)

The executor starts it in a session of its own, so it outlives the controller that
launched it. It starts the training command with stdout and stderr appended to the
log file (never a pipe another process must drain), and leaves everything a new
controller needs in ``CONTROL_DIR``:

- ``supervisor.json`` (written first): its pid, its start time in clock ticks (so a
  reused pid is not mistaken for it) and the token that marks every process of the job;
- ``exit.json`` (written last): the exit code (negative: killed by that signal), whether
  the job was stopped on request, or why it could not start, and when it ended.

SIGTERM asks for a stop: every process of the job gets SIGTERM, then SIGKILL once the
grace period in ``stop.json`` (written by the executor just before) has passed. The
supervisor is a child subreaper, so processes that leave the job's process group or
session (``setsid``) stay its descendants and are stopped too; processes that carry
the job's token in their environment are found even if they escaped otherwise. Once
the training command exits, whatever it left running is killed. With ``--detach`` the supervisor forks
and its first process exits once the second has written ``supervisor.json``: the supervisor is then no
child of its starter, so it outlives a starter that kills its children when it ends (a Ray worker).

It starts once per training job, so it imports only a few standard modules (no ``subprocess``,
``pathlib`` or ``json`` on the common path; the C modules under ``os``, ``signal`` and ``ctypes``
instead of those), and it is imported rather than run as a script, so its compiled form is cached:
every millisecond it spends starting is spent again for each training job.
"""

from __future__ import annotations

# The C module behind ``os``, which has the same functions and constants: ``os`` costs 1.3 ms of CPU.
import posix
import select
import sys
import time

TYPE_CHECKING = False  # typing itself is not imported: it costs more than the rest of this module
if TYPE_CHECKING:
    import os
    import signal
    from collections.abc import Callable, Mapping
else:  # the C module behind ``signal``, the same functions and constants without its 5 ms of ``enum``
    import _signal as signal

TOKEN_VARIABLE = "MODELTUNE_TRAINING_TOKEN"
SUPERVISOR_FILE = "supervisor.json"
EXIT_FILE = "exit.json"
STOP_FILE = "stop.json"
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1
_TICK_SECONDS = 0.05
# The module's folder: LAUNCH imports it from there.
FOLDER = __file__.rpartition("/")[0]
# The code ``python -I -S -c`` runs to start a supervisor (arguments follow it). Imported, the module loads
# from its cached compiled form; run by path, it would be compiled again at every start (1.4 ms of CPU).
LAUNCH = f"import sys; sys.path.append({FOLDER!r}); from supervisor import main; sys.exit(main(sys.argv[1:]))"
# Signals Python ignores for itself that the training command gets back at their default.
_RESTORED_SIGNALS = [getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)]
# Longest sleep between checks when no signal arrives.
_IDLE_WAKE = 1.0


def write_json(path: str | os.PathLike[str], data: Mapping[str, object]) -> None:
    """Write ``data`` (numbers, booleans, None and strings) to ``path`` as JSON, atomically: a reader sees
    the old file or the whole new one."""
    partial = posix.fspath(path) + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write("{" + ", ".join(f"{_json(key)}: {_json(value)}" for key, value in data.items()) + "}")
    posix.replace(partial, path)


def _json(value: object) -> str:
    """One JSON scalar; the json module loads only for text that needs escaping (the rare error reason)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and value.isascii() and (not value or value.replace("_", "").replace("-", "").isalnum()):
        return f'"{value}"'
    import json

    return json.dumps(value)


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot, or None when it does not exist."""
    try:
        fields = _read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if fields[0] not in (b"Z", b"X") else None


def job_processes(root: int, token: str) -> set[int]:
    """Every live process below ``root`` (by parent links) or carrying ``token`` in its environment."""
    parents: dict[int, int] = {}
    found: set[int] = set()
    marker = f"{TOKEN_VARIABLE}={token}".encode()
    for entry in posix.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (root, posix.getpid()):
            continue
        pid = int(entry)
        try:
            fields = _read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()
            if fields[0] in (b"Z", b"X"):
                continue
            parents[pid] = int(fields[1])
            if marker in _read(f"/proc/{pid}/environ").split(b"\0"):
                found.add(pid)
        except (OSError, IndexError, ValueError):
            continue
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier += children
    return found


def signal_all(pids: set[int], sig: int) -> None:
    """Send ``sig`` to each of ``pids`` that still exists."""
    for pid in pids:
        try:
            posix.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    """Runs one training command to its end, stopping it on request (see the module docstring)."""

    def __init__(
        self,
        control_dir: str,
        log_path: str,
        argv: list[str],
        die_with_parent: bool = False,
        ready_fd: int | None = None,
    ):
        self.die_with_parent = die_with_parent
        self.ready_fd = ready_fd  # told once supervisor.json is written (the first process of --detach waits)
        self.control_dir = control_dir
        self.log_path = log_path
        self.argv = argv
        self.token = posix.environ.get(TOKEN_VARIABLE.encode(), b"").decode("utf-8", "replace")
        self.stopping = False
        self.kill_at: float | None = None
        self._wake = -1

    def run(self) -> int:
        """Start the command, wait for it (stopping it when asked), record how it ended."""
        prctl = _prctl()
        if prctl is not None:
            prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            if self.die_with_parent:  # a worker's training jobs end with it: it is not re-attached to
                prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        me = posix.getpid()
        write_json(self._control(SUPERVISOR_FILE), {"pid": me, "start": start_ticks(me), "token": self.token})
        if self.ready_fd is not None:
            posix.close(self.ready_fd)
        self._wake, wake_write = posix.pipe()
        posix.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_stop)
        try:
            child = self._spawn()
        except (OSError, ValueError) as exc:
            reason = f"could not start {self.argv[0]!r}: {getattr(exc, 'strerror', None) or exc}"
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(reason + "\n")
            ending = {"exit_code": None, "stopped": False, "error": reason, "ended_at": time.time()}
            write_json(self._control(EXIT_FILE), ending)
            return 0
        if self.stopping:  # asked to stop while it was starting
            signal_all({child}, signal.SIGTERM)
        code = self._wait(child)
        if _has_children():  # what the command left running (none can have left this process's tree)
            signal_all(job_processes(me, self.token), signal.SIGKILL)
            self._reap_all(deadline=time.monotonic() + 2)
        ending = {"exit_code": code, "stopped": self.stopping, "error": None, "ended_at": time.time()}
        write_json(self._control(EXIT_FILE), ending)
        return 0

    def _spawn(self) -> int:
        """Start the training command, stdin empty, stdout and stderr appended to the log; its pid."""
        log = posix.open(self.log_path, posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT, 0o666)
        try:
            return posix.posix_spawnp(
                self.argv[0],
                self.argv,
                posix.environ,
                file_actions=[
                    (posix.POSIX_SPAWN_OPEN, 0, "/dev/null", posix.O_RDONLY, 0),
                    (posix.POSIX_SPAWN_DUP2, log, 1),
                    (posix.POSIX_SPAWN_DUP2, log, 2),
                ],
                setsigdef=_RESTORED_SIGNALS,  # Python ignores SIGPIPE; the command gets the default
            )
        finally:
            posix.close(log)

    def _control(self, name: str) -> str:
        return f"{self.control_dir}/{name}"

    def _on_stop(self, _signum: int, _frame: object) -> None:
        grace = 0.0
        try:
            import json

            grace = float(json.loads(_read(self._control(STOP_FILE)))["grace_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        self.stopping = True
        deadline = time.monotonic() + max(0.0, grace)
        self.kill_at = deadline if self.kill_at is None else min(self.kill_at, deadline)
        signal_all(job_processes(posix.getpid(), self.token), signal.SIGKILL if grace <= 0 else signal.SIGTERM)

    def _wait(self, child: int) -> int:
        """Reap processes as they end (orphans are ours to reap) until ``child`` has exited; its exit code.

        SIGCHLD and SIGTERM wake the wait at once through a wake-up pipe, so the exit is recorded
        without a polling delay.
        """
        while True:
            if self.kill_at is not None and time.monotonic() >= self.kill_at:
                signal_all(job_processes(posix.getpid(), self.token), signal.SIGKILL)
                self.kill_at = None
            while True:
                try:
                    pid, status = posix.waitpid(-1, posix.WNOHANG)
                except ChildProcessError:
                    break
                if pid == child:
                    return posix.waitstatus_to_exitcode(status)
                if pid == 0:
                    break
            timeout = _IDLE_WAKE if self.kill_at is None else max(0.0, min(_IDLE_WAKE, self.kill_at - time.monotonic()))
            if select.select([self._wake], [], [], timeout)[0]:
                posix.read(self._wake, 4096)

    def _reap_all(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                pid, _ = posix.waitpid(-1, posix.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(_TICK_SECONDS)


def _has_children() -> bool:
    """Whether any process is still below this one (an ended one may be reaped by asking)."""
    try:
        posix.waitpid(-1, posix.WNOHANG)
    except ChildProcessError:
        return False
    return True


def _prctl() -> Callable[..., int] | None:
    """Linux's prctl (here: become the child subreaper, so orphaned descendants are re-parented to this
    process instead of init; ask for a signal when the parent dies), or None elsewhere.

    Made from ``_ctypes``, the C module under ``ctypes``, as ``ctypes.CDLL(None).prctl`` would be:
    ``import ctypes`` costs 4 ms of CPU (``struct``, ``ctypes._endian`` and the module itself), ``_ctypes``
    0.6 ms.
    """
    try:
        import _ctypes

        class Int(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_int
            _type_ = "i"

        class Function(_ctypes.CFuncPtr):  # a function of the C library, as ctypes.CDLL makes them
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = Int

        class Library:  # what ctypes.CDLL(None) passes: the handle of this program and its libraries
            _handle = _ctypes.dlopen(None, 0)  # type: ignore[arg-type]

        return Function(("prctl", Library()))  # type: ignore[arg-type]
    except (ImportError, OSError, AttributeError):
        return None


def main(args: list[str]) -> int:
    """Entry point: ``[--die-with-parent | --detach] CONTROL_DIR LOG_PATH -- ARGV...``."""
    option = args[0] if args[:1] in (["--die-with-parent"], ["--detach"]) else None
    args = args[1:] if option else args
    separator = args.index("--")
    control_dir, log_path = args[:separator]
    ready_fd = None
    if option == "--detach":
        ready_read, ready_fd = posix.pipe()
        if posix.fork():  # the first process: gone once the supervisor (its child) wrote supervisor.json, or died
            posix.close(ready_fd)
            posix.read(ready_read, 1)
            posix._exit(0)
        posix.close(ready_read)
    return Supervisor(control_dir, log_path, args[separator + 1 :], option == "--die-with-parent", ready_fd).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
