"""``python -m benchmarks.ray.run``: training jobs on a local Ray cluster against local processes, and model uploads.

Starts a Ray cluster on loopback (a head with 8 logical CPUs and a second node with 2) and moto's
S3-compatible server, measures, and stops both by the PIDs it started. Figures:

- overhead per training job: ``--jobs`` trivial training jobs one at a time, local and on Ray (ms per job);
- utilisation: 48 training jobs of 2 s (six rounds), 8 at once on the Ray cluster (and with local processes, for
  reference): busy time / (8 x wall time); and the first 16 on a new cluster (8 Ray workers started), where
  Ray still starts worker processes for the second round;
- stop latency: from the stop request to the training job recorded Stopped, for a job that exits on
  SIGTERM and for one that ignores it (2 s grace period);
- upload: a 100 MB model folder (random bytes) packed and put to the S3-compatible server.

Results go to ``benchmarks/results/ray/`` (``results.json``, ``SUMMARY.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parents[1] / "results" / "ray"
TESTS = Path(__file__).parents[2] / "tests"
PRINT = "print('loss: 1.0', flush=True)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + PRINT + "; time.sleep(120)"


def spec(name: str, code: str, jobs: int, slots: int, executor: str, address: str | None) -> dict[str, Any]:
    """A Random tuning job of ``jobs`` runs of a Python one-liner, ``slots`` at once."""
    return {
        "name": name,
        "training": {
            "command": [sys.executable, "-c", code],
            # Shipped to the nodes once per tuning job; this folder, not the whole repository (3.5 MB, 0.6 s to pack).
            "source_dir": str(Path(__file__).parent),
            "metric_definitions": [{"name": "loss", "regex": r"loss: (\S+)"}],
            "stop_grace_seconds": 2,
        },
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {"x": {"type": "Continuous", "min": 0.0, "max": 1.0}},
        "strategy": "Random",
        "limits": {"max_jobs": jobs, "max_parallel_jobs": slots},
        "random_seed": 0,
        "executor": executor,
        "ray_address": address,
    }


def run_job(store: Any, data: dict[str, Any]) -> float:
    """Run a tuning job to its end; its wall time in seconds."""
    from modeltune.controller import service
    from modeltune.controller.loop import Controller
    from modeltune.spec import parse_spec

    job = service.submit(store, parse_spec(data))
    started = time.monotonic()
    Controller(store, job.name, poll_seconds=0.05).run()
    return time.monotonic() - started


def load() -> float:
    """The machine's 1-minute load average (2 cores, shared with other work)."""
    return round(os.getloadavg()[0], 2)


def overhead(store: Any, address: str, jobs: int) -> dict[str, Any]:
    """Wall time per trivial training job, one at a time, locally and on Ray (after one warm-up job each)."""
    figures: dict[str, Any] = {"jobs": jobs}
    for executor in ("local", "ray"):
        run_job(store, spec(f"warm-{executor}", PRINT, 1, 1, executor, address))
        figures[f"{executor}_load_before"] = load()
        wall = run_job(store, spec(f"overhead-{executor}", PRINT, jobs, 1, executor, address))
        figures[f"{executor}_ms_per_job"] = round(1000 * wall / jobs, 1)
        figures[f"{executor}_load_after"] = load()
    figures["extra_ms_per_job"] = round(figures["ray_ms_per_job"] - figures["local_ms_per_job"], 1)
    return figures


def utilisation(
    store: Any, address: str, executor: str, jobs: int, slots: int = 8, seconds: float = 2.0
) -> dict[str, Any]:
    """How busy ``slots`` slots of ``executor`` are while ``jobs`` training jobs of ``seconds`` each run."""
    code = f"import time; time.sleep({seconds}); " + PRINT
    # Ray starts a worker process per concurrent task the first time; the warm-up starts 8 (its jobs sleep
    # 1 s so that all of them run at once). Ray may place the next round on a node with a free CPU but no
    # idle worker, and start one there (about 0.5 s): the first rounds show that, 48 jobs the steady state.
    warm_up = "import time; time.sleep(1); " + PRINT
    run_job(store, spec(f"utilisation-{jobs}-warm-up-{executor}", warm_up, slots, slots, executor, address))
    before = load()
    wall = run_job(store, spec(f"utilisation-{jobs}-{executor}", code, jobs, slots, executor, address))
    return {
        "slots": slots,
        "jobs": jobs,
        "seconds_per_job": seconds,
        "wall_seconds": round(wall, 2),
        "utilisation": round(jobs * seconds / (slots * wall), 3),
        "load_before": before,
        "load_after": load(),
    }


def stop_latency(store: Any, address: str, code: str, name: str) -> float:
    """Seconds from a stop request to the (running) training job recorded as ended."""
    from modeltune.controller import service
    from modeltune.controller.loop import Controller
    from modeltune.spec import parse_spec
    from modeltune.store import repository as repo

    job = service.submit(store, parse_spec(spec(name, code, 1, 1, "ray", address)))
    thread = threading.Thread(target=Controller(store, job.name, poll_seconds=0.05).run)
    thread.start()
    while True:
        records = repo.list_training_jobs(store, job.id)
        if records and Path(records[0].log_path).exists() and "loss" in Path(records[0].log_path).read_text():
            break
        time.sleep(0.02)
    asked = time.monotonic()
    repo.request_stop(store, job.name)
    while not repo.list_training_jobs(store, job.id)[0].status.terminal:
        time.sleep(0.01)
    latency = time.monotonic() - asked
    thread.join()
    assert repo.list_training_jobs(store, job.id)[0].status == "Stopped"
    return latency


def upload(megabytes: int = 100, rounds: int = 3) -> dict[str, Any]:
    """Seconds to pack a model folder of random bytes and to put the archive to moto's S3 server."""
    from modeltune.artifacts import artifact_uri, pack_model
    from modeltune.artifacts.keep import _filesystem

    from s3server import s3_server

    packs, puts = [], []
    with s3_server() as server, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(server.environment())
        model = Path(scratch) / "job" / "model"
        model.mkdir(parents=True)
        (model / "weights.bin").write_bytes(os.urandom(megabytes * 2**20))
        for n in range(rounds):
            started = time.monotonic()
            archive = pack_model(model, Path(scratch) / "job" / "output" / "model.tar.gz")
            packed = time.monotonic()
            _filesystem("s3://").put_file(str(archive), artifact_uri(f"s3://{server.bucket}/bench", f"job-{n}"))
            packs.append(packed - started)
            puts.append(time.monotonic() - packed)
    return {
        "megabytes": megabytes,
        "rounds": rounds,
        "pack_seconds_median": round(statistics.median(packs), 2),
        "upload_seconds_median": round(statistics.median(puts), 2),
        "upload_megabytes_per_second": round(megabytes / statistics.median(puts), 1),
    }


def summary(results: dict[str, Any]) -> str:
    """The results as a short markdown page."""
    o, u, s, a = results["overhead"], results["utilisation"], results["stop"], results["upload"]
    local, first = results["utilisation_local"], results["utilisation_first"]
    return "\n".join(
        [
            "# Ray executor and model artifacts",
            "",
            f"Measured {results['date']} on {results['machine']} (2 cores shared with other work), Ray "
            f"{results['ray']}: a head with 8 logical CPUs and a second node with 2, both on loopback; "
            "each utilisation run follows a warm-up of 8 training jobs of 1 s at once (Ray's worker processes). "
            "Load: the 1-minute load average when the figure's run began.",
            "Command: `python -m benchmarks.ray.run`.",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| trivial training job, one at a time, local (load {o['local_load_before']}) "
            f"| {o['local_ms_per_job']} ms | |",
            f"| same on Ray (load {o['ray_load_before']}) | {o['ray_ms_per_job']} ms | |",
            f"| extra per training job on Ray | {o['extra_ms_per_job']} ms | < 100 ms |",
            f"| utilisation on Ray, {u['jobs']} jobs of {u['seconds_per_job']:g} s, {u['slots']} at once "
            f"(load {u['load_before']}) | {u['utilisation']:.0%} (wall {u['wall_seconds']} s) | >= 85% |",
            f"| same with local processes (load {local['load_before']}) | {local['utilisation']:.0%} "
            f"(wall {local['wall_seconds']} s) | |",
            f"| first {first['jobs']} jobs on Ray, Ray workers started for 8 only (load {first['load_before']}) "
            f"| {first['utilisation']:.0%} (wall {first['wall_seconds']} s) | |",
            f"| stop to Stopped, job exits on SIGTERM | {s['cooperative_seconds']} s | <= grace + 1 s |",
            f"| stop to Stopped, job ignores SIGTERM (grace {s['grace_seconds']} s) | {s['stubborn_seconds']} s "
            f"| <= {s['grace_seconds'] + 1} s |",
            f"| pack {a['megabytes']} MB model folder (median of {a['rounds']}) | {a['pack_seconds_median']} s | |",
            f"| upload it to moto's S3 server | {a['upload_seconds_median']} s "
            f"({a['upload_megabytes_per_second']} MB/s) | |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="trivial training jobs for the overhead figure")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    import ray
    from modeltune.store import Store

    from raycluster import ray_cluster

    os.environ["MODELTUNE_HOME"] = tempfile.mkdtemp(prefix="modeltune-bench-ray-")
    store = Store()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "ray": ray.__version__,
    }
    with ray_cluster(head_cpus=8) as cluster:
        cluster.add_node("second", cpus=2)
        results["overhead"] = overhead(store, cluster.address, args.jobs)
        results["utilisation_first"] = utilisation(store, cluster.address, "ray", jobs=16)
        results["utilisation"] = utilisation(store, cluster.address, "ray", jobs=48)
        results["utilisation_local"] = utilisation(store, cluster.address, "local", jobs=48)
        results["stop"] = {
            "grace_seconds": 2,
            "cooperative_seconds": round(
                stop_latency(store, cluster.address, PRINT + "; import time; time.sleep(120)", "stop-ok"), 2
            ),
            "stubborn_seconds": round(stop_latency(store, cluster.address, STUBBORN, "stop-stubborn"), 2),
        }
    results["upload"] = upload()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / "SUMMARY.md").write_text(summary(results))
    print(summary(results))


if __name__ == "__main__":
    main()
