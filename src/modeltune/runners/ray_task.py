"""The Ray task that runs one training job on its node, and streams what it writes back to the controller.

The training job runs under the local executor (its own supervisor, the unchanged training-job
contract) in a folder of the node. The task yields chunks (dicts, pickled by Ray): first its node and
folder, then new log bytes with their lines, new ``modeltune.report`` lines, the cloudml-hypertune
file when it changed, and at the end the exit, the ``output/failure`` reason and the packed model
folder. A task of a later controller follows a training job an earlier one left running there. A
stop request reaches the task through a small actor whose answer it looks at, and asks for again, every
``_STOP_CHECK_SECONDS`` without waiting for it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from modeltune.artifacts import pack_model
from modeltune.executors import JobFiles, LaunchRequest, LocalExecutor
from modeltune.metrics.report import METRICS_FILE
from modeltune.runners.code import unpack

# How often a running task looks whether its training job should stop (a stop reaches it within two).
_STOP_CHECK_SECONDS = 0.2
# How long the task waits between looks at the training job's files for new lines; it wakes at once when
# the supervisor ends, so a short training job is not held up by it.
_LOOK_SECONDS = 0.05
# How long a task that streamed its training job's end keeps the job's folder, waiting for the controller to
# record that end (a controller that died meanwhile ends the task first: Ray ends the tasks of a dead owner).
_RECORD_WAIT_SECONDS = 60.0
HYPERTUNE_FILE = Path("hypertune") / "output.metrics"
FAILURE_FILE = Path("output") / "failure"
# Tells a training job which Ray node runs it.
NODE_VARIABLE = "MODELTUNE_RAY_NODE_ID"
# Where a node keeps the training code it received, one folder per digest.
_CODE_CACHE = Path(tempfile.gettempdir()) / "modeltune-ray" / "code"


class StopBoard:
    """Stop requests by key (an executor's own prefix and a training job's name), with their grace periods,
    and the training jobs whose end the controller has recorded (a Ray actor of the controller's process;
    an async one, so a task can wait for the record without holding up the others)."""

    def __init__(self) -> None:
        self.requests: dict[str, float] = {}
        self.recorded: dict[str, asyncio.Event] = {}

    def request(self, key: str, grace_seconds: float) -> None:
        """Ask ``key`` to stop; a shorter grace period replaces a longer one."""
        self.requests[key] = min(grace_seconds, self.requests.get(key, grace_seconds))

    def asked(self, key: str) -> float | None:
        """The grace period ``key`` was asked to stop with, or None."""
        return self.requests.get(key)

    async def record(self, key: str) -> None:
        """The controller recorded the end of ``key`` in the store."""
        self.recorded.setdefault(key, asyncio.Event()).set()

    async def wait_recorded(self, key: str, timeout: float) -> bool:
        """Whether the controller recorded the end of ``key`` within ``timeout`` seconds (then forgets it)."""
        try:
            await asyncio.wait_for(self.recorded.setdefault(key, asyncio.Event()).wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.recorded.pop(key, None)
            self.requests.pop(key, None)


class _StopRequest:
    """Whether this training job was asked to stop, from the controller's ``StopBoard``, never waiting for it:
    the board's answer is looked at every ``_STOP_CHECK_SECONDS`` (at once the first time), and asked for
    again once it came (the board may still be starting). Looking costs CPU on a node that runs many
    training jobs; looking at every look at the files took a quarter of the task's CPU."""

    def __init__(self, board: Any, key: str):
        self.board, self.key = board, key
        self._answer = board.asked.remote(key)
        self._looked_at = time.monotonic() - _STOP_CHECK_SECONDS

    def grace(self) -> float | None:
        """The grace period the training job was asked to stop with, or None (not asked, no answer yet, or
        looked too recently)."""
        import ray

        now = time.monotonic()
        if now - self._looked_at < _STOP_CHECK_SECONDS:
            return None
        self._looked_at = now
        if not ray.wait([self._answer], timeout=0)[0]:
            return None
        grace: float | None = ray.get(self._answer)
        if grace is None:
            self._answer = self.board.asked.remote(self.key)
        return grace


def relocatable(request: LaunchRequest) -> dict[str, Any]:
    """What a node needs to run ``request`` in a folder of its own: the request, and the job folder's
    config files and channel links."""
    root = request.files.control_dir
    config = root / "input" / "config"
    data = root / "input" / "data"
    return {
        "name": request.name,
        "log": request.files.log_path.name,
        "argv": request.argv,
        "cwd": str(request.cwd.resolve()),
        "env": request.env,
        "root": str(root),
        "config": {p.name: p.read_text() for p in sorted(config.glob("*.json"))},
        "links": {p.name: os.readlink(p) for p in sorted(data.iterdir()) if p.is_symlink()} if data.is_dir() else {},
    }


def _moved(text: str, old: str, new: str) -> str:
    """``text`` with the absolute path ``old`` replaced by ``new`` wherever it stands as a whole path or the
    start of one (not inside a longer name: ``/a/b`` moves in ``/a/b/c`` and ``"/a/b"``, not in ``/a/bc``)."""
    return re.sub(rf"(?<![\w./-]){re.escape(old)}(?=$|/|[^\w.-])", lambda _: new, text)


def _place(job: dict[str, Any], folder: Path, code: Path) -> LaunchRequest:
    """Lay out the job's folder on this node and the request that runs it there, in ``code`` (its
    source_dir as unpacked here)."""
    root, source_dir = job["root"], job["cwd"]
    for sub in ("input/config", "input/data", "model", "output/data", "output/intermediate", "hypertune"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name, text in job["config"].items():
        (folder / "input" / "config" / name).write_text(text)
    for name, target in job["links"].items():
        (folder / "input" / "data" / name).symlink_to(target, target_is_directory=True)

    def here(text: str) -> str:
        return _moved(_moved(text, root, str(folder)), source_dir, str(code))

    env = {key: here(value) for key, value in job["env"].items()}
    import ray

    env["SM_NUM_GPUS"] = str(len(ray.get_gpu_ids()))
    env[NODE_VARIABLE] = ray.get_runtime_context().get_node_id()
    return LaunchRequest(JobFiles(job["name"], folder / job["log"], folder), [here(a) for a in job["argv"]], code, env)


class _Output:
    """What the training job wrote since the last look: metric-report lines and the hypertune file."""

    def __init__(self, folder: Path, report_offset: int = 0):
        self.folder = folder
        self.report_offset = report_offset  # what the controller has of the metric-report file
        self.hypertune = ""

    def new(self) -> dict[str, Any]:
        chunk: dict[str, Any] = {}
        try:
            with open(self.folder / METRICS_FILE, "rb") as report:
                report.seek(self.report_offset)
                data = report.read()
        except OSError:
            data = b""
        complete = data[: data.rfind(b"\n") + 1]  # whole lines only; the rest comes next time
        if complete:
            self.report_offset += len(complete)
            chunk["report"] = complete
        try:
            hypertune = (self.folder / HYPERTUNE_FILE).read_text()
        except OSError:
            hypertune = ""
        if hypertune != self.hypertune:
            self.hypertune = chunk["hypertune"] = hypertune
        return chunk


def _packed_model(folder: Path) -> bytes:
    with tempfile.TemporaryDirectory(prefix="modeltune-model-") as scratch:
        return pack_model(folder / "model", Path(scratch) / "model.tar.gz").read_bytes()


def run_on_node(job: dict[str, Any], board: Any) -> Iterator[dict[str, Any]]:
    """Run one training job here, or follow the one an earlier task left running in ``job["folder"]`` (a Ray
    generator task); yields where it runs, then its output as it comes, then its end.

    The training job's supervisor is no child of this task's worker, and the folder stays, unless the
    task yielded the job's end or was cancelled: a task that ends with its controller (Ray ends a task
    whose owner died) leaves the job running for the next controller to follow.
    """
    import ray

    following = "folder" in job
    folder = Path(job["folder"]) if following else _CODE_CACHE.parent / f"{job['name']}-{uuid.uuid4().hex[:8]}"
    yield {"node": ray.get_runtime_context().get_node_id(), "folder": str(folder)}
    files = JobFiles(job["name"], folder / job["log"], folder)
    executor = LocalExecutor(detach=True)
    stop = _StopRequest(board, job["stop_key"])
    over = False
    try:
        if following and not executor.attach(files, job["log_offset"]):
            over = True
            yield _exit(None, "lost: its folder on the Ray node no longer shows that it ran", time.time())
            return
        if not following:
            if stop.grace() is not None:
                over = True
                yield _exit(None, "stopped before it started", time.time())
                return
            code = unpack(ray.get(job["code"]["data"]), job["code"]["digest"], _CODE_CACHE)
            executor.launch(_place(job, folder, code))
        yield from _stream(
            executor, files, _Output(folder, job.get("report_offset", 0)), stop, job.get("log_offset", 0)
        )
        _wait_until_recorded(board, job["stop_key"])
        over = True
    except KeyboardInterrupt:  # cancelled (ray.cancel): nobody is to follow its training job
        executor.close(0)
        over = True
        raise
    finally:
        if over:
            shutil.rmtree(folder, ignore_errors=True)


def _wait_until_recorded(board: Any, key: str) -> None:
    """Keep the training job's folder until the controller has recorded its end (at most
    ``_RECORD_WAIT_SECONDS``): a controller killed before that finds the end there when it resumes."""
    import ray

    ray.get(board.wait_recorded.remote(key, _RECORD_WAIT_SECONDS))


def _exit(exit_code: int | None, error: str | None, ended_at: float) -> dict[str, Any]:
    return {"exit": {"exit_code": exit_code, "error": error, "ended_at": ended_at}}


def _stream(
    executor: LocalExecutor, files: JobFiles, output: _Output, stop: _StopRequest, sent: int
) -> Iterator[dict[str, Any]]:
    """The training job's output from byte ``sent`` of its log on, as it comes, then its end (with its failure
    reason and packed model). The log goes as it is on the node, so the controller's copy is byte for byte
    the same, and a later task follows on from the offset the controller has read to."""
    stopping = False
    while True:
        events = executor.poll(0)
        chunk = output.new()
        lines = [(e.line, e.offset) for e in events if e.line is not None]
        if lines:
            with open(files.log_path, "rb") as log:
                log.seek(sent)
                chunk["log"] = log.read(lines[-1][1] - sent)
            chunk["lines"], sent = lines, lines[-1][1]
        ended = next((e for e in events if e.is_exit), None)
        if ended is not None:
            moment = ended.ended_at.replace(tzinfo=UTC).timestamp() if ended.ended_at else time.time()
            chunk |= _exit(ended.exit_code, ended.error, moment)
            failure = files.control_dir / FAILURE_FILE
            chunk["failure"] = failure.read_text(errors="replace") if failure.exists() else None
            chunk["model"] = _packed_model(files.control_dir)
        if chunk:
            yield chunk
        if ended is not None:
            return
        grace = None if stopping else stop.grace()
        if grace is not None:
            executor.stop(files.name, grace)
            stopping = True
        elif not events:  # wakes at once when the supervisor ends
            executor.wait(_LOOK_SECONDS)
