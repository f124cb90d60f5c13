"""Who may use the server: a token off loopback, the console's login cookie, no cross-site changes, escaping."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modeltune.store import repository as repo

from .support import WebServer, quick_spec, slow_spec, stop_controllers, wait_for, web_server

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def exposed(tmp_path: Path) -> Iterator[WebServer]:
    """A server on every address (0.0.0.0) with a token."""
    with web_server(tmp_path / "home", "--host", "0.0.0.0", "--token", TOKEN) as running:
        try:
            yield running
        finally:
            running.process.terminate()
            stop_controllers(running.store)


def test_off_loopback_the_server_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modeltune", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"MODELTUNE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: serving on 0.0.0.0 lets other machines in, so it needs a token: pass --token (or set "
        "MODELTUNE_SERVER_TOKEN), or serve on 127.0.0.1"
    )


def test_without_the_token_api_requests_are_refused(exposed: WebServer) -> None:
    anonymous = httpx.get(f"{exposed.url}/api/v1/tuning-jobs")
    assert anonymous.status_code == 401 and "Authorization: Bearer" in anonymous.json()["detail"]
    wrong = httpx.get(f"{exposed.url}/api/v1/tuning-jobs", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert httpx.get(f"{exposed.url}/openapi.json").status_code == 401
    created = httpx.post(f"{exposed.url}/api/v1/tuning-jobs", json=quick_spec("sneaky", max_jobs=1))
    assert created.status_code == 401 and repo.list_tuning_jobs(exposed.store) == []
    with exposed.client() as client:
        assert client.get("/api/v1/tuning-jobs").json()["HyperParameterTuningJobSummaries"] == []


def test_the_console_asks_for_the_token_and_keeps_it_in_a_strict_httponly_cookie(exposed: WebServer) -> None:
    with httpx.Client(base_url=exposed.url) as browser:
        page = browser.get("/compare?jobs=a")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fcompare%3Fjobs%3Da"
        refused = browser.post("/login", data={"token": "guess", "next": "/"})
        assert refused.status_code == 401 and "not this server" in refused.text
        assert browser.get("/").status_code == 303
        accepted = browser.post("/login", data={"token": TOKEN, "next": "/compare?jobs=a"})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/compare?jobs=a"
        cookie = accepted.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
        assert browser.get("/").status_code == 200
        assert browser.get("/api/v1/tuning-jobs").status_code == 200
        elsewhere = browser.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
        assert elsewhere.headers["location"] == "/"


def test_a_cross_site_post_is_refused_and_changes_nothing(server: WebServer) -> None:
    with server.client() as client:
        client.post("/api/v1/tuning-jobs", json=slow_spec("target", seconds=120))
        wait_for(lambda: client.get("/api/v1/tuning-jobs/target").json()["TrainingJobStatusCounters"]["InProgress"])
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
            refused = client.post("/api/v1/tuning-jobs/target/stop", headers=headers)
            assert refused.status_code == 403 and "cross-site" in refused.json()["detail"]
        form = client.post(
            "/create", data={"spec_text": "{}"}, headers={"Origin": "http://evil.example"}, follow_redirects=False
        )
        assert form.status_code == 403
        assert client.get("/api/v1/tuning-jobs/target").json()["HyperParameterTuningJobStatus"] == "InProgress"
        own = client.post("/api/v1/tuning-jobs/target/stop", headers={"Origin": server.url})
        assert own.status_code == 200


def test_names_spec_values_and_messages_are_escaped_in_pages(server: WebServer) -> None:
    spec = quick_spec("escaped", max_jobs=1)
    spec["ranges"]["kind"] = {"type": "Categorical", "values": ["<script>alert(1)</script>"]}
    with server.client() as client:
        assert client.post("/api/v1/tuning-jobs", json=spec).status_code == 201
        wait_for(
            lambda: client.get("/api/v1/tuning-jobs/escaped").json()["HyperParameterTuningJobStatus"] != "InProgress"
        )
        page = client.get("/jobs/escaped/training-jobs/1").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
        missing = client.get("/jobs/%3Cscript%3Ealert(2)").text
        assert "&lt;script&gt;alert(2)" in missing and "<script>alert(2)" not in missing
        created = client.post("/create", data={"spec_text": "name: <b>bold</b>\n"})
        assert (
            created.status_code == 422 and "&lt;b&gt;bold&lt;/b&gt;" in created.text and "<b>bold" not in created.text
        )
