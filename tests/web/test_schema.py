"""Schemathesis against the live server's OpenAPI schema: no 500s, and every answer matches the schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from .support import WebServer, quick_spec, wait_for

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


# GET requests read the stored job "seed" (so they reach past the 404); changes go to names that do not exist.
CONFIG = """
[[operations]]
include-method = "GET"
parameters = { "path.name" = "seed", "path.training_job" = "1" }
"""


def test_no_generated_request_breaks_the_api_or_its_schema(server: WebServer, tmp_path: Path) -> None:
    with server.client() as client:
        assert client.post("/api/v1/tuning-jobs", json=quick_spec("seed", max_jobs=2)).status_code == 201
        wait_for(lambda: client.get("/api/v1/tuning-jobs/seed").json()["HyperParameterTuningJobStatus"] == "Completed")
    schemathesis = Path(sys.executable).parent / "schemathesis"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [str(schemathesis), "--config-file", str(config), "run", f"{server.url}/openapi.json"]
    options = ["--checks", CHECKS, "--max-examples", "25", "--seed", "1", "--workers", "1"]
    options += ["--phases", "examples,coverage,fuzzing", "--suppress-health-check", "all"]
    result = subprocess.run(command + options, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_the_schema_names_the_sagemaker_fields(server: WebServer) -> None:
    raw = httpx.get(f"{server.url}/openapi.json").json()
    assert {"HyperParameterTuningJobSummaries", "NextToken"} <= set(
        raw["components"]["schemas"]["TuningJobPage"]["properties"]
    )
    assert "/api/v1/tuning-jobs/{name}/training-jobs/{training_job}/log" in raw["paths"]
    assert "/" not in raw["paths"], "console pages stay out of the API schema"
