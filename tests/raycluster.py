"""A real Ray cluster on loopback for tests and benchmarks: a head and more nodes, each a `ray start --block`
process this code starts in a process group of its own and stops by killing that group (never `ray stop`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
# Ray replaces 127.0.0.1 (and localhost) with the machine's network address, but leaves the rest of the
# loopback range alone: the head and this process, its driver, use 127.0.0.2, each other node its own.
HEAD_IP = "127.0.0.2"
# Ray turns on token authentication for a head that is not on 127.0.0.1; this cluster is reachable from
# this machine only, so its nodes and drivers (this process) go without (read when ray is imported).
os.environ["RAY_AUTH_MODE"] = "disabled"
# What `ray start` prints once its node runs.
STARTED = "Ray runtime started"
# Nodes are declared dead after 3 missed checks 0.5 s apart, so a killed node shows within seconds.
_HEALTH = {"health_check_period_ms": 500, "health_check_failure_threshold": 3, "health_check_initial_delay_ms": 1000}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RayCluster:
    """A head node and extra nodes; ``address`` is what ``ray.init`` and ``--ray-address`` take."""

    address: str
    temp_dir: Path
    nodes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def add_node(self, name: str, cpus: int, resources: dict[str, float] | None = None) -> None:
        """Start another node with ``cpus`` CPUs and custom ``resources``, and wait until the cluster has it."""
        before = self._alive()
        self.nodes[name] = _start(
            [RAY, "start", "--address", self.address, f"--num-cpus={cpus}", "--num-gpus=0", "--block"]
            + ([f"--resources={json.dumps(resources)}"] if resources else [])
            + [f"--node-ip-address=127.0.0.{3 + len(self.nodes)}", "--disable-usage-stats"],
            self.temp_dir / f"{name}.log",
        )
        log = self.temp_dir / f"{name}.log"
        self._wait(lambda: STARTED in log.read_text(errors="replace") and self._alive() > before, f"node {name}")

    def kill_node(self, name: str) -> None:
        """SIGKILL every process of the node ``name`` (its raylet, workers and the tasks they run)."""
        process = self.nodes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _alive(self) -> int:
        import ray

        if not ray.is_initialized():
            try:
                ray.init(address=self.address, _node_ip_address=HEAD_IP, logging_level="ERROR", log_to_driver=False)
            except ConnectionError:
                return 0
        return sum(1 for node in ray.nodes() if node["Alive"])

    def node_id(self, resource: str) -> str:
        """The id of the alive node that has the custom ``resource``."""
        import ray

        return next(n["NodeID"] for n in ray.nodes() if n["Alive"] and resource in n["Resources"])

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + 90
        while not ready():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} of the Ray cluster did not start; see {self.temp_dir}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Disconnect this process, then kill every node this cluster started, the head last."""
        import ray

        ray.shutdown()
        for name in [n for n in self.nodes if n != "head"] + ["head"]:
            process = self.nodes.pop(name, None)
            if process is not None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)


@contextmanager
def ray_cluster(head_cpus: int = 2) -> Iterator[RayCluster]:
    """A head node with ``head_cpus`` CPUs on loopback (nodes added with ``add_node``), this process connected
    to it as a driver; stopped after."""
    temp_dir = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    port = free_port()
    cluster = RayCluster(f"{HEAD_IP}:{port}", temp_dir)
    try:
        cluster.nodes["head"] = _start(
            [RAY, "start", "--head", f"--port={port}", f"--num-cpus={head_cpus}", "--num-gpus=0", "--block"]
            + [f"--node-ip-address={HEAD_IP}", "--include-dashboard=false", "--disable-usage-stats"]
            + [f"--temp-dir={temp_dir}", f"--system-config={json.dumps(_HEALTH)}"]
            + [f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}"],
            temp_dir / "head.log",
        )
        # Connect only once the head says it runs: a driver that connects earlier may be refused for good.
        cluster._wait(lambda: STARTED in (temp_dir / "head.log").read_text(errors="replace"), "the head")
        cluster._wait(lambda: cluster._alive() >= 1, "the head")
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("KEEP_RAY_LOGS") is None:
            shutil.rmtree(temp_dir, ignore_errors=True)
