"""The console in a real browser (Debian's Chromium): copy settings into a warm start and watch it finish live,
stop a running job, compare two jobs, and see markup in names and logs shown as text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import WebServer, quick_spec, slow_spec, wait_for

# Set MODELTUNE_SCREENSHOTS to a folder (docs/) to save pictures of the pages the tests visit.
SCREENSHOTS = os.environ.get("MODELTUNE_SCREENSHOTS")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page whose console errors and uncaught exceptions are collected in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.errors.append(str(error) + str(error.stack)))
    tab.on("response", lambda r: tab.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab
    context.close()


def snapshot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"console-{name}.png"), full_page=True)


def create(server: WebServer, spec: dict[str, Any], done: bool = True) -> None:
    with server.client() as client:
        assert client.post("/api/v1/tuning-jobs", json=spec).status_code == 201
        if done:
            wait_for(
                lambda: (
                    client.get(f"/api/v1/tuning-jobs/{spec['name']}").json()["HyperParameterTuningJobStatus"]
                    == "Completed"
                )
            )


def test_copy_settings_as_a_warm_start_and_watch_it_finish_live(server: WebServer, page: Any) -> None:
    parent = quick_spec("parent", max_jobs=4)
    parent["training"]["static_hyperparameters"] = {"mode": "epochs", "seconds": 0.01, "epochs": 3}
    create(server, parent)
    page.goto(server.url)
    page.click("tr[data-job=parent] >> text=Copy settings")
    page.wait_for_url("**/create?from=parent")
    copied = yaml.safe_load(page.input_value("#spec"))
    assert copied["name"] == "parent-2" and set(copied["ranges"]) == {"x", "k", "kind"}
    assert copied["ranges"]["x"]["max"] == 1.0 and copied["objective"] == {"metric": "loss", "type": "Minimize"}
    # Slower training jobs (three epochs of 0.4 s), so the page sees them end one by one.
    copied["training"]["static_hyperparameters"]["seconds"] = 0.4
    copied["limits"] = {"max_jobs": 3, "max_parallel_jobs": 1}
    page.fill("#spec", yaml.safe_dump(copied, sort_keys=False))
    page.check("#warm_start")
    page.select_option("#warm_start_type", "TransferLearning")
    assert page.input_value("#parents") == "parent"
    snapshot(page, "create")
    page.click("#create")
    page.wait_for_url("**/jobs/parent-2", wait_until="domcontentloaded")
    assert page.text_content("#status") == "InProgress"
    assert "TransferLearning from parent" in page.text_content(".facts")
    page.wait_for_function("document.querySelector('#status').textContent === 'Completed'", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('#training-jobs tbody tr').length === 3")
    page.wait_for_selector("#charts[data-rendered=true] svg, #charts[data-rendered=true] canvas", timeout=60_000)
    assert page.text_content("#count") == "3/3"
    snapshot(page, "job")
    page.click("#training-jobs tbody tr >> nth=0 >> a")
    page.wait_for_selector("#log[data-ended=true]")
    page.wait_for_selector("#curve[data-rendered=true]")
    assert "epoch 3 loss:" in page.text_content("#log")
    snapshot(page, "training-job")
    assert page.errors == []


def test_the_stop_button_stops_a_running_job(server: WebServer, page: Any) -> None:
    create(server, slow_spec("runner", seconds=120), done=False)
    page.goto(f"{server.url}/jobs/runner")
    page.wait_for_function(
        "document.querySelector('#training-jobs tbody tr td:nth-child(3)')?.textContent === 'InProgress'"
    )
    page.click("#stop")
    page.wait_for_function("document.querySelector('#status').textContent === 'Stopped'", timeout=60_000)
    assert page.is_hidden("#stop")
    with server.client() as client:
        assert client.get("/api/v1/tuning-jobs/runner").json()["HyperParameterTuningJobStatus"] == "Stopped"
    assert page.errors == []


def test_compare_two_jobs_from_the_list(server: WebServer, page: Any) -> None:
    create(server, quick_spec("first", max_jobs=3))
    create(server, quick_spec("second", max_jobs=3, strategy="Bayesian"))
    page.goto(server.url)
    assert page.text_content("tr[data-job=first] [data-field=count]") == "3/3"
    snapshot(page, "jobs")
    page.check("input[value=first]")
    page.check("input[value=second]")
    page.click("text=Compare selected")
    page.wait_for_url("**/compare?jobs=second&jobs=first")  # the list shows the newest first
    assert page.locator("#comparison tbody tr").count() == 2
    page.wait_for_selector("#compare-charts[data-rendered=true] svg, #compare-charts[data-rendered=true] canvas")
    snapshot(page, "compare")
    assert page.errors == []


def test_markup_in_values_and_log_lines_shows_as_text(server: WebServer, page: Any) -> None:
    spec = quick_spec("markup", max_jobs=1)
    script = "import sys; print('<script>window.pwned = 1</script>'); print('loss: 0.5')"
    spec["training"] = {**spec["training"], "command": ["python", "-c", script], "static_hyperparameters": {}}
    spec["ranges"]["kind"] = {"type": "Categorical", "values": ["<img src=x onerror='window.pwned=2'>"]}
    create(server, spec)
    page.goto(f"{server.url}/jobs/markup")
    page.wait_for_selector("#training-jobs tbody tr")
    assert "<img src=x onerror='window.pwned=2'>" in page.text_content("#training-jobs tbody")
    page.goto(f"{server.url}/jobs/markup/training-jobs/1")
    page.wait_for_selector("#log[data-ended=true]")
    assert "<script>window.pwned = 1</script>" in page.text_content("#log")
    assert page.evaluate("window.pwned") is None
    assert page.locator("#log script, img[src=x]").count() == 0
