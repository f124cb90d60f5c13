"""Training jobs as tasks of a Ray cluster, each placed by its ``training.resources`` (``run --executor ray``).

Each training job is one Ray task (``ray_task.run_on_node``) that runs the unchanged training-job
contract under the local executor on the node Ray picked. What the job writes streams back while it
runs and is mirrored into the training job's folder on the controller's machine (log, metric files,
failure reason, and at the end its model folder), so logs, metrics, early stopping and artifacts work
as for local training jobs. A task whose node dies ends the training job ``Failed`` ("node lost").
Ray ends a task with the controller (its driver) that started it, but not its training job: the job's
supervisor is no child of the task, and its folder on the node stays, so a resumed tuning job follows it
with a new task on that node (``attach``), from where the store says the last controller read its log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modeltune import extras
from modeltune.artifacts import MODEL_ARCHIVE, keep_model, unpack_model
from modeltune.core import utcnow
from modeltune.errors import ModeltuneError
from modeltune.executors import Executor, ExecutorEvent, JobFiles, LaunchRequest
from modeltune.metrics.report import METRICS_FILE
from modeltune.runners.code import pack
from modeltune.runners.local import LocalRunner, artifact_location
from modeltune.runners.ray_task import FAILURE_FILE, HYPERTUNE_FILE, StopBoard, relocatable, run_on_node
from modeltune.runners.running_job import RunningJob
from modeltune.spec import TuningJobSpec
from modeltune.spec.models import Resources
from modeltune.store import Store, TrainingJob

NODE_LOST = "node lost"
# In a training job's folder here: the Ray node and the folder there where it runs (JSON).
NODE_FILE = "ray.json"
# How often the nodes of running training jobs are checked (Ray may not end a task whose node died).
_NODE_CHECK_SECONDS = 1.0


def import_ray() -> Any:
    """The ray module, or a ModeltuneError naming the install command."""
    return extras.require("ray", "ray", "running training jobs on a Ray cluster needs")


def ray_options(resources: Resources | None) -> dict[str, Any]:
    """Ray's task options for a training job's resources (one CPU when it names none, as Ray's default)."""
    if resources is None:
        return {"num_cpus": 1}
    options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus}
    if resources.memory_gb is not None:
        options["memory"] = int(resources.memory_gb * 2**30)
    if resources.custom:
        options["resources"] = dict(resources.custom)
    return options


def _needs(resources: Resources | None) -> dict[str, float]:
    """The request in the names of Ray's node resources."""
    options = ray_options(resources)
    needs = {"CPU": float(options["num_cpus"]), "GPU": float(options.get("num_gpus", 0))}
    if "memory" in options:
        needs["memory"] = float(options["memory"])
    needs.update(options.get("resources", {}))
    return {name: amount for name, amount in needs.items() if amount > 0}


def _describe(amounts: dict[str, float]) -> str:
    def one(name: str, amount: float) -> str:
        return f"{amount / 2**30:g} GB memory" if name == "memory" else f"{amount:g} {name}"

    return ", ".join(one(name, amount) for name, amount in sorted(amounts.items())) or "nothing"


def _unmet(needs: dict[str, float], nodes: list[dict[str, float]]) -> str | None:
    """Why none of ``nodes`` (their total resources) has ``needs``, or None when one has."""
    if any(all(offer.get(name, 0) >= amount for name, amount in needs.items()) for offer in nodes):
        return None
    offers = "; ".join(_describe({k: v for k, v in o.items() if not k.startswith("node:")}) for o in nodes)
    return (
        f"no node of the Ray cluster has {_describe(needs)} for one training job (its nodes have: {offers}); "
        "ask for less in training.resources or add a node that has it"
    )


@dataclass
class _Remote:
    """A training job running as a Ray task: its generator, and how far its log mirror has been reported."""

    files: JobFiles
    generator: Any
    offset: int
    needs: dict[str, float]
    started: bool = False
    node: str | None = None  # the Ray node it runs on, once it started


class RayExecutor(Executor):
    """Runs training jobs as Ray tasks and mirrors what they write into their folders here.

    Args:
        address: the cluster (``auto``, ``ray://host:10001``, ``host:port``); None: ``RAY_ADDRESS``, else a
            new single-machine cluster.
    """

    def __init__(self, address: str | None = None):
        self.address = address
        self._jobs: dict[str, _Remote] = {}
        self._plans: dict[str, Resources | None] = {}
        self._board: Any = None
        self._key = uuid.uuid4().hex  # its training jobs' stop requests on the shared board start with this
        self._task: Any = None
        self._last_node_check = 0.0
        self._nodes: list[dict[str, Any]] | None = None
        self._code: dict[Path, dict[str, Any]] = {}
        self._ended: list[str] = []  # board keys of the training jobs whose end a poll returned

    def _connect(self) -> Any:
        ray = import_ray()
        if self._task is None:
            if not ray.is_initialized():
                try:
                    ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    where = self.address or "RAY_ADDRESS or a new local cluster"
                    raise ModeltuneError(
                        f"could not connect to the Ray cluster at {where} ({exc}); check --ray-address"
                    ) from None
            # One board per driver, shared by its executors: an actor takes a worker process of its own,
            # which one more tuning job run in the same process need not start again.
            board = f"modeltune-stop-board-{ray.get_runtime_context().get_job_id()}"
            self._board = ray.remote(num_cpus=0)(StopBoard).options(name=board, get_if_exists=True).remote()
            self._task = ray.remote(max_retries=0)(run_on_node)
        return ray

    def why_not(self, resources: Resources | None) -> str | None:
        """Why no node of the cluster could ever run a training job with ``resources``, or None."""
        ray = self._connect()
        return _unmet(_needs(resources), [node["Resources"] for node in self._alive_nodes(ray)])

    def _alive_nodes(self, ray: Any) -> list[dict[str, Any]]:
        """The cluster's alive nodes, asked for at most every ``_NODE_CHECK_SECONDS`` (a launch of eight
        training jobs at once asks once)."""
        if self._nodes is None or time.monotonic() - self._last_node_check >= _NODE_CHECK_SECONDS:
            self._nodes = [node for node in ray.nodes() if node.get("Alive")]
            self._last_node_check = time.monotonic()
        return self._nodes

    def plan(self, name: str, resources: Resources | None) -> None:
        """The resources of the training job ``name``, launched next."""
        self._plans[name] = resources

    def launch(self, request: LaunchRequest) -> int | None:
        self._connect()
        resources = self._plans.pop(request.name, None)
        job = {**relocatable(request), "code": self._shipped(request.cwd), "stop_key": self._board_key(request.name)}
        generator = self._task.options(**ray_options(resources)).remote(job, self._board)
        request.files.log_path.parent.mkdir(parents=True, exist_ok=True)
        request.files.log_path.write_bytes(b"")  # the copy of the node's log, byte for byte
        self._jobs[request.name] = _Remote(request.files, generator, 0, _needs(resources))
        return None

    def _board_key(self, name: str) -> str:
        """The key of the training job ``name`` on the board this executor shares with others."""
        return f"{self._key}/{name}"

    def _shipped(self, source_dir: Path) -> dict[str, Any]:
        """``source_dir`` as it travels to the nodes: packed once, put in Ray's object store, with its digest
        (a node unpacks it once and runs the training job there, as SageMaker does with source_dir)."""
        if source_dir not in self._code:
            data = pack(source_dir)
            ray = import_ray()
            self._code[source_dir] = {"digest": hashlib.sha256(data).hexdigest(), "data": ray.put(data)}
        return self._code[source_dir]

    def attach(self, files: JobFiles, offset: int) -> bool:
        """Follow a training job an earlier controller's task left running on its node, with a new task on
        that node (and the same resources) that reads its log there from ``offset`` on."""
        try:
            where = json.loads((files.control_dir / NODE_FILE).read_text())
        except (OSError, ValueError):
            return False  # its task never reported a node: it never started there
        self._connect()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        resources = self._plans.pop(files.name, None)
        with open(files.log_path, "ab") as log:  # lines after ``offset`` come again from the node
            if log.seek(0, os.SEEK_END) > offset:
                log.truncate(offset)
        report = files.control_dir / METRICS_FILE
        job = {
            "name": files.name,
            "log": files.log_path.name,
            "folder": where["folder"],
            "log_offset": offset,
            "report_offset": report.stat().st_size if report.exists() else 0,
            "stop_key": self._board_key(files.name),
        }
        on_node = NodeAffinitySchedulingStrategy(where["node"], soft=False)
        generator = self._task.options(**ray_options(resources), scheduling_strategy=on_node).remote(job, self._board)
        self._jobs[files.name] = _Remote(files, generator, offset, _needs(resources), started=True, node=where["node"])
        return True

    def poll(self, timeout: float) -> list[ExecutorEvent]:
        if not self._jobs:
            time.sleep(max(0.0, timeout))
            return []
        ray = self._connect()
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            # Jobs of dead nodes first: ray.wait on the stream of a task whose node died can block for good.
            events = self._lost(ray)
            generators = [job.generator for job in self._jobs.values()]
            if not generators:
                return events
            # Wait for the first chunk of any stream (at most until the next look at the nodes), then take
            # every chunk that is there.
            wait = 0.0 if events else min(max(0.0, deadline - time.monotonic()), _NODE_CHECK_SECONDS)
            if ray.wait(generators, num_returns=1, timeout=wait)[0]:
                ready = ray.wait(generators, num_returns=len(generators), timeout=0)[0]
                for job in [j for j in list(self._jobs.values()) if j.generator in ready]:
                    events += self._take(ray, job)
            if events or time.monotonic() >= deadline:
                return events

    def ends_recorded(self) -> None:
        """Tell the tasks whose ends the polls returned that those ends are stored: they remove their
        training jobs' folders and end."""
        for key in self._ended:
            self._board.record.remote(key)
        self._ended.clear()

    def _lost(self, ray: Any) -> list[ExecutorEvent]:
        """Exit events of the training jobs whose node the cluster no longer has (checked now and then)."""
        if self._nodes is not None and time.monotonic() - self._last_node_check < _NODE_CHECK_SECONDS:
            return []
        nodes = self._alive_nodes(ray)
        alive = {node["NodeID"] for node in nodes}
        events: list[ExecutorEvent] = []
        for job in list(self._jobs.values()):
            if job.node is not None and job.node not in alive:
                error: str | None = f"{NODE_LOST}: the Ray node {job.node} that ran it died"
            elif job.node is None:  # waiting for room: the node it fits on may be gone since its launch
                unmet = _unmet(job.needs, [node["Resources"] for node in nodes])
                error = f"could not start: {unmet}" if unmet else None
            else:
                error = None
            if error is not None:
                ray.cancel(job.generator, force=True)
                events += self._mirror(job, {"exit": {"exit_code": None, "error": error}})
        return events

    def _take(self, ray: Any, job: _Remote) -> list[ExecutorEvent]:
        """The events of the next chunk ``job`` streamed (its exit when the task failed or ended)."""
        try:
            chunk = ray.get(next(job.generator))
        except StopIteration:
            chunk = {"exit": {"exit_code": None, "error": "the Ray task ended without an exit status"}}
        except ray.exceptions.TaskCancelledError:
            chunk = {"exit": {"exit_code": None, "error": "stopped before it started"}}
        except (ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError, ray.exceptions.ActorDiedError) as exc:
            chunk = {"exit": {"exit_code": None, "error": f"{NODE_LOST}: {type(exc).__name__}"}}
        except ray.exceptions.RayError as exc:
            text = str(exc).strip().splitlines()
            chunk = {"exit": {"exit_code": None, "error": f"the Ray task failed: {text[-1] if text else exc}"}}
        job.started = True
        if "folder" in chunk:  # where it runs, for a controller that follows it after this one
            job.node = chunk["node"]
            where = {"node": chunk["node"], "folder": chunk["folder"]}
            (job.files.control_dir / NODE_FILE).write_text(json.dumps(where))
        return self._mirror(job, chunk)

    def _mirror(self, job: _Remote, chunk: dict[str, Any]) -> list[ExecutorEvent]:
        """Write a chunk into the job's folder here; the events of its lines and exit."""
        folder = job.files.control_dir
        events = []
        if chunk.get("lines"):
            with open(job.files.log_path, "ab") as log:
                log.write(chunk["log"])
            events += [ExecutorEvent(job.files.name, line=line, offset=offset) for line, offset in chunk["lines"]]
            job.offset = chunk["lines"][-1][1]
        if chunk.get("report"):
            with open(folder / METRICS_FILE, "ab") as report:
                report.write(chunk["report"])
        if "hypertune" in chunk:
            (folder / HYPERTUNE_FILE).parent.mkdir(parents=True, exist_ok=True)
            (folder / HYPERTUNE_FILE).write_text(chunk["hypertune"])
        if chunk.get("failure") is not None:
            (folder / FAILURE_FILE).parent.mkdir(parents=True, exist_ok=True)
            (folder / FAILURE_FILE).write_text(chunk["failure"])
        if chunk.get("model") is not None:  # unpacked into the model folder by RayRunner._keep, off this thread
            (folder / "output").mkdir(parents=True, exist_ok=True)
            (folder / "output" / MODEL_ARCHIVE).write_bytes(chunk["model"])
        ending = chunk.get("exit")
        if ending is not None:
            del self._jobs[job.files.name]
            self._ended.append(self._board_key(job.files.name))
            moment = ending.get("ended_at")
            ended_at = datetime.fromtimestamp(moment, UTC).replace(tzinfo=None) if moment else utcnow()
            events.append(
                ExecutorEvent(
                    job.files.name,
                    exit_code=ending["exit_code"],
                    error=ending["error"],
                    offset=job.offset,
                    ended_at=ended_at,
                )
            )
        return events

    def stop(self, name: str, grace_seconds: float) -> None:
        job = self._jobs.get(name)
        if job is None:
            return
        ray = self._connect()
        self._board.request.remote(self._board_key(name), max(0.0, grace_seconds))
        if not job.started:  # still waiting for a node with room: it never needs to start
            ray.cancel(job.generator)

    def running(self) -> list[str]:
        return list(self._jobs)

    def close(self, grace_seconds: float = 0.0) -> None:
        """Stop every training job and wait for their ends (at most the grace period plus a few seconds)."""
        super().close(grace_seconds)
        deadline = time.monotonic() + grace_seconds + 5
        while self._jobs and time.monotonic() < deadline:
            self.poll(0.1)
        self.ends_recorded()


class RayRunner(LocalRunner):
    """Runs training jobs on a Ray cluster; Ray places each by its ``training.resources``.

    Args:
        store: where the records are.
        address: the Ray cluster (see ``RayExecutor``).
    """

    def __init__(self, store: Store, address: str | None = None):
        self.ray = RayExecutor(address)
        super().__init__(store, self.ray)

    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        for record in records:
            self.ray.plan(record.name, spec.training.resources)
        return super().recover(records, spec)

    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        monitor = RunningJob(record, spec)
        reason = self.ray.why_not(spec.training.resources)
        if reason is not None:
            self.monitors[record.name] = monitor
            return self._finish(monitor, ExecutorEvent(record.name, error=f"could not start: {reason}"))
        self.ray.plan(record.name, spec.training.resources)
        return self._start(monitor, None)

    def _keep(self, monitor: RunningJob) -> str:
        """Unpack the model archive the node sent into the model folder here, and keep that archive."""
        folder = Path(monitor.record.output_dir)
        archive = folder / "output" / MODEL_ARCHIVE
        if archive.exists():
            unpack_model(archive, folder / "model")
        return keep_model(folder, artifact_location(monitor), monitor.name, packed=archive.exists())
