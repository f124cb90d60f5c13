"""``python -m benchmarks.throughput.run``: how fast modeltune runs many short training jobs, on one machine
and with workers on PostgreSQL and MariaDB, beside Optuna's RDBStorage on the same PostgreSQL.

Every training job (and every Optuna trial) starts the same Python one-liner that prints its value.
Results go to ``benchmarks/results/throughput/`` (``results.json``, ``SUMMARY.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.throughput import probe
from benchmarks.throughput.optuna_probe import ONE_LINER

OUT = Path(__file__).parents[1] / "results" / "throughput"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/{db}"


def spec(name: str, jobs: int, slots: int, executor: str = "local", seconds: float = 0.0) -> dict[str, Any]:
    """A Random tuning job of ``jobs`` one-liners (each sleeping ``seconds`` first), ``slots`` at once."""
    code = ONE_LINER if not seconds else f"import time; time.sleep({seconds}); " + ONE_LINER
    return {
        "name": name,
        "training": {
            "command": [sys.executable, "-c", code],
            "metric_definitions": [{"name": "loss", "regex": r"loss: (\S+)"}],
        },
        "objective": {"metric": "loss", "type": "Minimize"},
        "ranges": {"x": {"type": "Continuous", "min": 0.0, "max": 1.0}},
        "strategy": "Random",
        "limits": {"max_jobs": jobs, "max_parallel_jobs": slots},
        "random_seed": 0,
        "executor": executor,
    }


def timings(store: Any, name: str, slots: int) -> dict[str, float]:
    """Figures from the recorded start and end times of a finished tuning job's training jobs."""
    from modeltune.store import repository as repo

    jobs = repo.list_training_jobs(store, repo.get_tuning_job(store, name).id)
    starts = sorted(j.started_at for j in jobs if j.started_at)
    ends = sorted(j.ended_at for j in jobs if j.ended_at)
    wall = (ends[-1] - starts[0]).total_seconds()
    busy = sum((j.ended_at - j.started_at).total_seconds() for j in jobs if j.started_at and j.ended_at)
    # A slot frees when a training job ends; the next job starts after the controller sees it. For each
    # start after the first wave, the gap since the latest end before it.
    gaps = []
    for start in starts[slots:]:
        before = [e for e in ends if e <= start]
        if before:
            gaps.append((start - before[-1]).total_seconds() * 1000)
    return {
        "training_jobs": len(jobs),
        "completed": sum(j.status == "Completed" for j in jobs),
        "wall_seconds": wall,
        "jobs_per_second": len(jobs) / wall,
        "overhead_ms_median": statistics.median(gaps) if gaps else 0.0,
        "overhead_ms_p90": statistics.quantiles(gaps, n=10)[-1] if len(gaps) >= 10 else 0.0,
        "utilisation": busy / (slots * wall),
    }


def local_run(folder: Path, name: str, jobs: int, slots: int, seconds: float = 0.0) -> dict[str, Any]:
    """A tuning job run by a controller in this process (local executor)."""
    from modeltune.controller import service
    from modeltune.spec import parse_spec
    from modeltune.store import Store

    store = Store(f"sqlite:///{folder / name / 'modeltune.db'}", home=folder / name)
    service.submit(store, parse_spec(spec(name, jobs, slots, seconds=seconds)))
    before, cpu = dict(probe.TOTALS), probe.cpu_seconds()
    service.run(store, name)
    result = timings(store, name, slots)
    result["store_ms_per_job"] = (probe.TOTALS["seconds"] - before["seconds"]) * 1000 / jobs
    result["store_cpu_ms_per_job"] = (probe.TOTALS["cpu_seconds"] - before["cpu_seconds"]) * 1000 / jobs
    result["cpu_ms_per_job"] = (sum(probe.cpu_seconds().values()) - sum(cpu.values())) * 1000 / jobs
    return result


def new_database(kind: str) -> str:
    """A fresh empty database on the local server (dropped by ``drop_databases``); its URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    _administer(kind, f'CREATE DATABASE "{name}"' if kind == "postgresql" else f"CREATE DATABASE `{name}`")
    _CREATED.append((kind, name))
    return (POSTGRES if kind == "postgresql" else MARIADB).format(db=name)


def drop_databases() -> None:
    """Drop the databases this run created, so runs leave nothing on the shared servers."""
    while _CREATED:
        kind, name = _CREATED.pop()
        if kind == "postgresql":
            _administer(kind, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            _administer(kind, f"DROP DATABASE IF EXISTS `{name}`")


_CREATED: list[tuple[str, str]] = []


def _administer(kind: str, statement: str) -> None:
    """Run one statement on the local server as its administrator, outside any database of the run."""
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as admin:
            admin.execute(statement)
        return
    import pymysql

    admin = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(statement)
    admin.close()


def workers_run(folder: Path, kind: str, jobs: int, workers: int, slots: int) -> dict[str, Any]:
    """A tuning job run by ``workers`` worker processes with ``slots`` each, its controller in this process."""
    from modeltune.controller import service
    from modeltune.spec import parse_spec
    from modeltune.store import Store

    url = new_database(kind)
    name = f"workers-{kind}-{workers}x{slots}"
    store = Store(url, home=folder / name)
    service.submit(store, parse_spec(spec(name, jobs, workers * slots, executor="workers")))
    env = {**os.environ, "MODELTUNE_STORE": url, "MODELTUNE_HOME": str(folder / name / "workers")}
    outs = [folder / f"{name}-worker-{i}.json" for i in range(workers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.throughput.worker_probe", "--slots", str(slots), "--max-idle", "3"],
            env={**env, "THROUGHPUT_PROBE_OUT": str(out)},
            stdout=subprocess.DEVNULL,
            stderr=open(out.with_suffix(".log"), "w"),  # noqa: SIM115 - closed when the process ends
        )
        for out in outs
    ]
    before, cpu = dict(probe.TOTALS), probe.cpu_seconds()
    before_sites = {site: list(totals) for site, totals in probe.SITES.items()}
    service.run(store, name)
    for process in processes:
        process.wait(timeout=120)
    result = timings(store, name, workers * slots)
    reports = [json.loads(out.read_text()) for out in outs]
    controller_seconds = probe.TOTALS["seconds"] - before["seconds"]
    result["store_ms_per_job"] = (controller_seconds + sum(r["seconds"] for r in reports)) * 1000 / jobs
    result["controller_store_ms_per_job"] = controller_seconds * 1000 / jobs
    controller_cpu_seconds = probe.TOTALS["cpu_seconds"] - before["cpu_seconds"]
    result["store_cpu_ms_per_job"] = (controller_cpu_seconds + sum(r["cpu_seconds"] for r in reports)) * 1000 / jobs
    if kind == "postgresql":  # counted in psycopg only
        trips = probe.TOTALS["round_trips"] - before["round_trips"] + sum(r["round_trips"] for r in reports)
        result["round_trips_per_job"] = trips / jobs
    workers_cpu = sum(r["cpu_self"] + r["cpu_children"] for r in reports)
    # The controller's own CPU only: the workers, its children, are in workers_cpu already.
    controller_cpu = probe.cpu_seconds()["cpu_self"] - cpu["cpu_self"]
    result["cpu_ms_per_job"] = (workers_cpu + controller_cpu) * 1000 / jobs
    result["cpu_ms_per_job_by_process"] = {
        "controller": controller_cpu * 1000 / jobs,
        "workers": sum(r["cpu_self"] for r in reports) * 1000 / jobs,
        "supervisors_and_training": sum(r["cpu_children"] for r in reports) * 1000 / jobs,
    }
    sites: dict[str, float] = {}
    trips_by_site: dict[str, float] = {}
    for report in reports:
        for site, (seconds, _, site_trips, _) in report["sites"].items():
            sites[site] = sites.get(site, 0.0) + seconds * 1000 / jobs
            trips_by_site[site] = trips_by_site.get(site, 0.0) + site_trips / jobs
    result["workers_store_ms_per_job_by_function"] = dict(sorted(sites.items(), key=lambda item: -item[1]))
    if kind == "postgresql":
        result["workers_round_trips_per_job_by_function"] = dict(sorted(trips_by_site.items(), key=lambda i: -i[1]))
        result["controller_store_ms_per_job_by_function"] = _controller_by_site(before_sites, 0, 1000 / jobs)
        result["controller_round_trips_per_job_by_function"] = _controller_by_site(before_sites, 2, 1 / jobs)
    return result


def _controller_by_site(before: dict[str, list[float]], column: int, scale: float) -> dict[str, float]:
    """The increase of one column of this process's ``probe.SITES`` since ``before``, times ``scale``, by the
    store function that used it, largest first (functions without any left out)."""
    grown = {site: totals[column] - before.get(site, [0, 0, 0, 0])[column] for site, totals in probe.SITES.items()}
    return {site: value * scale for site, value in sorted(grown.items(), key=lambda item: -item[1]) if value > 0}


def optuna_run(folder: Path, trials: int, processes: int) -> dict[str, Any]:
    """Optuna with RDBStorage on PostgreSQL: ``processes`` processes share the trials."""
    import optuna

    url = new_database("postgresql")
    optuna.create_study(study_name="peer", storage=url, direction="minimize", sampler=optuna.samplers.RandomSampler())
    outs = [folder / f"optuna-{i}.json" for i in range(processes)]
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.throughput.optuna_probe", url, "peer", str(trials // processes)],
            env={**os.environ, "THROUGHPUT_PROBE_OUT": str(out)},
        )
        for out in outs
    ]
    for process in running:
        process.wait(timeout=600)
    wall = time.perf_counter() - started
    study = optuna.load_study(study_name="peer", storage=url)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    reports = [json.loads(out.read_text()) for out in outs]
    done = max(len(complete), 1)
    return {
        "trials": len(study.trials),
        "completed": len(complete),
        "wall_seconds": wall,
        "jobs_per_second": len(complete) / wall,
        "store_ms_per_job": sum(r["seconds"] for r in reports) * 1000 / done,
        "store_cpu_ms_per_job": sum(r["cpu_seconds"] for r in reports) * 1000 / done,
        "round_trips_per_job": sum(r["round_trips"] for r in reports) / done,
        "cpu_ms_per_job": sum(r["cpu_self"] + r["cpu_children"] for r in reports) * 1000 / done,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="runs of every row, interleaved; medians reported")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        help="comma-separated rows to run (e.g. workers-postgresql,optuna-rdb-postgresql); the results are "
        "printed, not written",
    )
    parser.add_argument(
        "--conditions",
        default="",
        help="how the machine was shared during the run, for the summary (e.g. what else ran, at what priority)",
    )
    args = parser.parse_args()
    probe.install()
    load = os.getloadavg()[0]
    rows = {name: run for name, run in _rows(args.jobs).items() if not args.only or name in args.only}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in rows}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        cleanup.callback(drop_databases)
        for number in range(args.rounds):  # interleaved, so a slower spell of the machine hits every row
            folder = Path(tmp) / f"round-{number + 1}"
            folder.mkdir()
            for name, run in rows.items():
                rounds[name].append(run(folder))
                print(f"round {number + 1}", name, json.dumps(rounds[name][-1]), flush=True)
    results = {name: {**medians(runs), "rounds": runs} for name, runs in rounds.items()}
    if args.only:
        print(summary(results, args.jobs, load, args.conditions))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "SUMMARY.md").write_text(summary(results, args.jobs, load, args.conditions))
    print((args.out / "SUMMARY.md").read_text())


def _rows(jobs: int) -> dict[str, Callable[[Path], dict[str, Any]]]:
    """Every row of the benchmark: its name and how to run it once in a folder of its own."""
    rows: dict[str, Callable[[Path], dict[str, Any]]] = {}
    for slots in (1, 4, 16):
        rows[f"local-{slots}"] = lambda folder, slots=slots: local_run(folder, f"local-{slots}", jobs, slots)
    rows["local-16-sleep-2s"] = lambda folder: local_run(folder, "sleepy", 64, 16, seconds=2.0)
    for kind, slots in (("postgresql", 4), ("mariadb", 4), ("postgresql", 1)):
        name = f"workers-{kind}" + ("" if slots == 4 else f"-4x{slots}")
        rows[name] = lambda folder, kind=kind, slots=slots: workers_run(folder, kind, jobs, workers=4, slots=slots)
    for processes in (4, 16):
        name = "optuna-rdb-postgresql" + ("" if processes == 4 else f"-{processes}")
        rows[name] = lambda folder, processes=processes: optuna_run(folder, jobs, processes)
    return rows


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the runs of a row (figures by function: each function's, absent ones 0)."""
    figures: dict[str, Any] = {}
    for key in dict.fromkeys(key for run in runs for key in run):
        values = [run.get(key, 0.0) for run in runs]
        figures[key] = medians(values) if isinstance(values[0], dict) else statistics.median(values)
    return figures


def summary(results: dict[str, Any], jobs: int, load: float, conditions: str = "") -> str:
    """The results as a Markdown table with the targets."""
    rows = [
        "| run | training jobs/s | overhead ms (median, p90) | store ms per job (CPU) | round trips per job "
        "| CPU ms per job | slot use |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, r in results.items():
        overhead = f"{r['overhead_ms_median']:.1f}, {r['overhead_ms_p90']:.1f}" if "overhead_ms_median" in r else "-"
        use = f"{r['utilisation']:.0%}" if "utilisation" in r else "-"
        trips = f"{r['round_trips_per_job']:.1f}" if "round_trips_per_job" in r else "-"
        store = f"{r['store_ms_per_job']:.1f} ({r['store_cpu_ms_per_job']:.1f})"
        rows.append(
            f"| {name} | {r['jobs_per_second']:.1f} | {overhead} | {store} | {trips} "
            f"| {r['cpu_ms_per_job']:.0f} | {use} |"
        )
    by_round = ["| run | training jobs/s, each round | store ms per job, each round |", "|---|--:|--:|"]
    for name, r in results.items():
        speeds = ", ".join(f"{run['jobs_per_second']:.1f}" for run in r["rounds"])
        times = ", ".join(f"{run['store_ms_per_job']:.1f}" for run in r["rounds"])
        by_round.append(f"| {name} | {speeds} | {times} |")
    return "\n".join(
        [
            "# Throughput: many short training jobs",
            "",
            f"Generated by `python -m benchmarks.throughput.run` ({jobs} training jobs per run; "
            "`local-16-sleep-2s`: 64 jobs sleeping 2 s). Every training job, and every Optuna trial, starts the "
            "same Python one-liner that "
            "prints its value. *Overhead*: from a training job's recorded end to the next one's start (a slot "
            "freeing to a process starting). *Store ms per job*: wall time inside store transactions (modeltune: "
            "the controller's and the workers'; Optuna: inside RDBStorage's methods), per training job, and in "
            "brackets the CPU time of those calls (the rest is waiting: for the server, and for a core while "
            "the training jobs hold both). *Round "
            "trips*: exchanges with the PostgreSQL server that waited for its answer (counted in psycopg), which "
            "unlike times do not depend on what else the machine does. *CPU ms per job*: CPU time of every "
            "process of the run (controller, workers, supervisors, the one-liners; Optuna's processes and their "
            "one-liners). Workers: 4 processes x 4 slots (`-4x1`: x 1 slot, as many processes at once as "
            "Optuna's); Optuna: 4 processes with RDBStorage on the same PostgreSQL server (`-16`: 16 processes, as "
            "many trials at once as the 4 x 4 workers' training jobs). "
            f"Every figure is the median of {len(next(iter(results.values()))['rounds'])} rounds, which ran every "
            "row in turn (each round's figures below). "
            f"Machine: {os.cpu_count()} cores, load average {load:.1f} at the start. {conditions}".rstrip(),
            "",
            *rows,
            "",
            *by_round,
            "",
        ]
    )


if __name__ == "__main__":
    main()
