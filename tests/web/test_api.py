"""The REST API against a live ``modeltune serve``: create, watch, list, stop, resume, delete, read results."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from modeltune.store import repository as repo

from .support import WebServer, quick_spec, slow_spec, wait_for
from helpers import modeltune_cli, toy_spec, write_spec


def finished(client: httpx.Client, name: str) -> dict[str, object] | None:
    described = client.get(f"/api/v1/tuning-jobs/{name}").json()
    return described if described["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped") else None


def test_a_spec_posted_runs_to_the_end_and_every_result_reads_back(server: WebServer) -> None:
    with server.client() as client:
        created = client.post("/api/v1/tuning-jobs", json=quick_spec("web", max_jobs=5))
        assert created.status_code == 201, created.text
        assert created.json()["HyperParameterTuningJobName"] == "web"
        described = wait_for(lambda: finished(client, "web"))
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"]["Completed"] == 5
        best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]

        first = client.get("/api/v1/tuning-jobs/web/training-jobs", params={"sort_by": "objective", "max_results": 2})
        page = first.json()
        assert [len(page["TrainingJobSummaries"]), page["NextToken"]] == [2, "2"]
        assert page["TrainingJobSummaries"][0]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == best
        rest = client.get(
            "/api/v1/tuning-jobs/web/training-jobs",
            params={"sort_by": "objective", "max_results": 10, "next_token": page["NextToken"]},
        ).json()
        assert rest["NextToken"] is None
        values = [
            t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
            for t in page["TrainingJobSummaries"] + rest["TrainingJobSummaries"]
        ]
        assert values == sorted(values) and len(values) == 5

        one = client.get("/api/v1/tuning-jobs/web/training-jobs/3").json()
        assert one["TrainingJobName"] == "web-003"
        assert [p["Step"] for p in one["MetricSeries"]["loss"]] == [1, 2]
        assert one["ObjectiveCurve"][-1]["Value"] == one["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]

        log = client.get("/api/v1/tuning-jobs/web/training-jobs/web-003/log", params={"tail": 1})
        assert log.text.startswith("epoch 2 loss: ") and log.text.count("\n") == 1
        whole = client.get("/api/v1/tuning-jobs/web/training-jobs/web-003/log")
        assert whole.text.endswith(log.text) and int(whole.headers["X-Log-Offset"]) == len(whole.content)

        table = list(csv.DictReader(io.StringIO(client.get("/api/v1/tuning-jobs/web/analytics?format=csv").text)))
        assert len(table) == 5 and {"x", "k", "kind", "TrainingJobName", "FinalObjectiveValue"} <= set(table[0])
        rows = client.get("/api/v1/tuning-jobs/web/analytics").json()
        assert sorted(r["TrainingJobName"] for r in rows) == [f"web-00{i}" for i in range(1, 6)]

        chart = client.get("/api/v1/tuning-jobs/web/charts").json()
        assert "vega-lite" in chart["$schema"] and "vconcat" in chart

        spec = client.get("/api/v1/tuning-jobs/web/spec").json()
        assert spec["name"] == "web" and spec["random_seed"] == 7 and spec["limits"]["max_jobs"] == 5


def test_an_invalid_spec_is_422_with_the_field_and_the_cli_sentence(server: WebServer, tmp_path: Path) -> None:
    bad = quick_spec("bad")
    bad["ranges"]["x"]["min"] = "low"
    with server.client() as client:
        answer = client.post("/api/v1/tuning-jobs", json=bad)
    assert answer.status_code == 422
    problem = answer.json()["detail"][0]
    assert problem["loc"] == ["body", "ranges", "x", "min"]
    cli = modeltune_cli("run", str(write_spec(tmp_path, bad, "bad.yaml")), "--detach")
    assert cli.returncode == 2
    # The same sentence; only the source differs ("spec" here, the file name in the CLI).
    assert problem["msg"].split(": ", 1)[1] == cli.stderr.strip().split(": ", 2)[2]
    assert repo.list_tuning_jobs(server.store) == []


def test_names_are_refused_or_taken_with_one_sentence(server: WebServer) -> None:
    with server.client() as client:
        assert client.post("/api/v1/tuning-jobs", json=quick_spec("twice", max_jobs=1)).status_code == 201
        again = client.post("/api/v1/tuning-jobs", json=quick_spec("twice", max_jobs=1))
        assert again.status_code == 409
        assert "already exists" in again.json()["detail"]
        missing = client.get("/api/v1/tuning-jobs/twise")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "no tuning job named 'twise' in the store; did you mean 'twice'?"
        parent = quick_spec("orphan", warm_start={"type": "TransferLearning", "parents": ["nobody"]})
        orphan = client.post("/api/v1/tuning-jobs", json=parent)
        assert orphan.status_code == 422 and "nobody" in orphan.json()["detail"][0]["msg"]


def test_the_list_filters_by_status_and_name_prefix_and_pages(server: WebServer) -> None:
    with server.client() as client:
        for name in ("alpha-1", "alpha-2", "beta-1"):
            assert client.post("/api/v1/tuning-jobs", json=quick_spec(name, max_jobs=1)).status_code == 201
        wait_for(lambda: all(finished(client, n) for n in ("alpha-1", "alpha-2", "beta-1")))
        client.post("/api/v1/tuning-jobs", json=slow_spec("gamma"))

        def names(**params: object) -> list[str]:
            page = client.get("/api/v1/tuning-jobs", params=params).json()
            return [s["HyperParameterTuningJobName"] for s in page["HyperParameterTuningJobSummaries"]]

        assert names(name_prefix="alpha") == ["alpha-2", "alpha-1"]
        assert names(status="InProgress") == ["gamma"]
        assert names(status="Completed", name_prefix="beta") == ["beta-1"]
        first = client.get("/api/v1/tuning-jobs", params={"max_results": 3}).json()
        assert first["NextToken"] == "3"
        assert names(max_results=3, next_token="3") == ["alpha-1"]
        assert client.get("/api/v1/tuning-jobs", params={"status": "Done"}).status_code == 422
        bad_token = client.get("/api/v1/tuning-jobs", params={"next_token": "abc"})
        assert bad_token.status_code == 422 and "NextToken" in bad_token.json()["detail"][0]["msg"]


def test_stop_resume_and_delete(server: WebServer) -> None:
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=slow_spec("slow", seconds=120))
        wait_for(lambda: client.get("/api/v1/tuning-jobs/slow").json()["TrainingJobStatusCounters"]["InProgress"])
        refused = client.delete("/api/v1/tuning-jobs/slow")
        assert refused.status_code == 409 and "stop it first" in refused.json()["detail"]
        stopped = client.post("/api/v1/tuning-jobs/slow/stop")
        assert stopped.status_code == 200
        assert stopped.json()["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
        described = wait_for(lambda: finished(client, "slow"))
        assert described["HyperParameterTuningJobStatus"] == "Stopped"
        assert client.post("/api/v1/tuning-jobs/slow/stop").status_code == 409

        spent = client.post("/api/v1/tuning-jobs/slow/resume", json={"MaxNumberOfTrainingJobs": 1})
        assert spent.status_code == 409 and "larger budget" in spent.json()["detail"]
        client.post("/api/v1/tuning-jobs/slow/stop")  # nothing to stop: 409, state unchanged
        assert client.post("/api/v1/tuning-jobs/slow/resume", json={}).status_code == 200
        wait_for(lambda: client.get("/api/v1/tuning-jobs/slow").json()["TrainingJobStatusCounters"]["InProgress"])
        client.post("/api/v1/tuning-jobs/slow/stop")
        wait_for(lambda: finished(client, "slow"))
        folder = server.store.jobs_folder() / "slow"
        assert folder.exists()
        assert client.delete("/api/v1/tuning-jobs/slow").status_code == 204
        assert client.get("/api/v1/tuning-jobs/slow").status_code == 404
        assert not folder.exists()


def test_a_dead_controller_is_replaced_and_a_server_restart_orphans_nothing(server: WebServer, tmp_path: Path) -> None:
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=slow_spec("kept", seconds=3, max_jobs=3))
        first = wait_for(lambda: repo.get_tuning_job(server.store, "kept").controller_pid)
        os.kill(first, signal.SIGKILL)  # the supervisor starts another controller, which re-attaches
        second = wait_for(lambda: (p := repo.get_tuning_job(server.store, "kept").controller_pid) != first and p)
        assert second != first
    server.process.terminate()
    server.process.wait(15)
    # The controller outlives the server and finishes the job alone.
    job = wait_for(lambda: (j := repo.get_tuning_job(server.store, "kept")).terminal and j, timeout=90)
    assert job.status == "Completed"
    assert repo.count_training_jobs(server.store, job.id) == 3


def test_the_event_stream_reports_training_jobs_as_they_end(server: WebServer) -> None:
    spec = toy_spec(name="live", mode="epochs", limits={"max_jobs": 3, "max_parallel_jobs": 1})
    spec["training"]["static_hyperparameters"].update(seconds=0.3, epochs=2)
    spec["training"]["metric_definitions"] = [{"name": "loss", "regex": r"epoch \d+ loss: (-?[0-9.eE+-]+)"}]
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=spec)
        ended = []
        with client.stream("GET", "/api/v1/tuning-jobs/live/events") as events:
            kind = ""
            for line in events.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "update":
                    ended.append(json.loads(line[6:])["TrainingJobsEnded"])
                elif kind == "end":
                    break
    assert ended == sorted(ended) and ended[-1] == 3 and len(set(ended)) >= 2


@pytest.mark.parametrize("name", ["..%2F..%2F..%2Fetc%2Fpasswd", "%2E%2E", "1%2F..%2F..%2Fmodeltune.db"])
def test_the_log_endpoint_does_not_reach_outside_the_store(server: WebServer, name: str) -> None:
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=quick_spec("logs", max_jobs=1))
        wait_for(lambda: finished(client, "logs"))
        answer = client.get(f"/api/v1/tuning-jobs/logs/training-jobs/{name}/log")
        assert answer.status_code == 404
        assert "root:" not in answer.text and "SQLite" not in answer.text


def test_a_log_path_pointing_outside_the_store_is_refused(server: WebServer) -> None:
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=quick_spec("moved", max_jobs=1))
        wait_for(lambda: finished(client, "moved"))
        record = repo.list_training_jobs(server.store, repo.get_tuning_job(server.store, "moved").id)[0]
        repo.update_training_job(server.store, record.id, log_path="/etc/passwd")
        answer = client.get("/api/v1/tuning-jobs/moved/training-jobs/1/log")
        assert answer.status_code == 403
        assert "outside the store's folders" in answer.json()["detail"] and "root:" not in answer.text
