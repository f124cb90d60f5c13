"""The Python client of a modeltune server: the CLI's operations over HTTP, with the CLI's errors."""

from __future__ import annotations

import pytest

from modeltune.errors import ConflictError, ModeltuneError, NotFoundError, SpecError
from modeltune.web.client import Client

from .support import WebServer, quick_spec, wait_for
from helpers import toy_spec


def test_the_client_runs_a_job_and_reads_it_back(server: WebServer) -> None:
    with Client(server.url) as client:
        assert client.create(quick_spec("remote", max_jobs=3))["HyperParameterTuningJobStatus"] == "InProgress"
        wait_for(lambda: client.describe("remote")["HyperParameterTuningJobStatus"] == "Completed")
        assert [j["HyperParameterTuningJobName"] for j in client.list_jobs(name_prefix="rem")] == ["remote"]
        ranked = client.training_jobs("remote", sort_by="objective")
        values = [j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in ranked]
        assert len(values) == 3 and values == sorted(values)
        assert client.log("remote", "1", tail=1).startswith("epoch 2 loss:")
        assert client.spec("remote")["limits"]["max_jobs"] == 3
        with pytest.raises(ConflictError, match="nothing to stop"):
            client.stop("remote")
        with pytest.raises(NotFoundError, match="did you mean 'remote'"):
            client.describe("remot")
        with pytest.raises(SpecError, match="max_parallel_jobs"):
            client.create(toy_spec(name="bad", limits={"max_jobs": 1, "max_parallel_jobs": 4}))
        client.delete("remote")
        assert client.list_jobs() == []


def test_an_unreachable_server_is_one_sentence() -> None:
    with Client("http://127.0.0.1:9") as client, pytest.raises(ModeltuneError, match="cannot reach the modeltune"):
        client.list_jobs()
