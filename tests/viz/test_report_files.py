"""``modeltune plot`` and ``modeltune export`` end to end: offline HTML in a real browser, PNG/SVG, tables."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest

from modeltune.store import Store

from helpers import modeltune_cli


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def distinct_colours(png: bytes) -> int:
    image = pytest.importorskip("PIL.Image").open(BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 24))


def open_report(browser, path: Path):
    """Load the report with every non-file request refused; the page, console errors and outside requests."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def refuse(route) -> None:
        outside.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!file:).*"), refuse)
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelector('#vis svg.marks, #vis canvas') !== null", timeout=30_000)
    page.wait_for_timeout(500)
    return page, errors, outside


def test_plot_writes_one_offline_html_report_that_renders_in_chromium(cli_env: Store, tmp_path: Path, browser) -> None:
    report = tmp_path / "report.html"
    result = modeltune_cli("plot", "rand", "bayes", "-o", str(report), "--advanced", check=True)

    assert f"Wrote {report}" in result.stdout
    html = report.read_text()
    assert "<script src=" not in html and "cdn.jsdelivr" not in html
    assert "vega-embed" in html and html.count("<script") >= 2
    page, errors, outside = open_report(browser, report)
    try:
        assert errors == [] and outside == []
        chart = page.locator("#vis svg.marks")  # the inlined template renders SVG
        assert chart.count() == 1 and chart.bounding_box()["height"] > 1000
        assert page.locator("#vis g.mark-symbol.progress_0_marks path").count() == 12
        for i in range(4):
            assert page.locator(f"#vis g.hp{i}_marks path").count() == 12  # points, or ticks for kind
        assert distinct_colours(page.screenshot(full_page=True)) > 100
        grey = "path[fill='#d3d3d3'], path[stroke='#d3d3d3']"
        views = ["progress_0", "hp0", "hp1", "hp2", "hp3", "parallel_0"]
        assert all(page.locator(f"#vis g.{v}_marks").locator(grey).count() == 0 for v in views)
        # Brush the left half of the main chart (520 x 320 px, its empty brush sits at the plot's origin):
        # the same training jobs turn grey in every chart.
        origin = page.locator("#vis g.brush_progress_brush_bg").bounding_box()
        page.mouse.move(origin["x"] + 1, origin["y"] + 1)
        page.mouse.down()
        page.mouse.move(origin["x"] + 260, origin["y"] + 319, steps=8)
        page.mouse.up()
        page.wait_for_timeout(500)
        assert page.locator("#vis g.brush_progress_brush path").count() == 1
        greys = [page.locator(f"#vis g.{v}_marks").locator(grey).count() for v in views]
        assert 0 < greys[0] < 12 and greys == [greys[0]] * len(views)
        assert errors == []
    finally:
        page.close()


def test_a_job_without_completed_training_jobs_renders_its_message(cli_env: Store, tmp_path: Path, browser) -> None:
    report, picture = tmp_path / "failed.html", tmp_path / "failed.svg"
    modeltune_cli("plot", "allfail", "-o", str(report), check=True)
    modeltune_cli("plot", "allfail", "-o", str(picture), check=True)

    assert "no completed training job yet" in picture.read_text()
    assert "allfail: 2 Failed" in picture.read_text()
    page, errors, outside = open_report(browser, report)
    try:
        assert errors == [] and outside == []
        assert distinct_colours(page.screenshot()) > 10
    finally:
        page.close()


def test_png_export_has_the_svg_size_times_the_scale(cli_env: Store, tmp_path: Path) -> None:
    png, svg = tmp_path / "chart.png", tmp_path / "chart.svg"
    modeltune_cli("plot", "mixed", "-o", str(png), "--scale", "2", check=True)
    modeltune_cli("plot", "mixed", "-o", str(svg), check=True)

    width, height = (
        float(v) for v in re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', svg.read_text()).groups()
    )
    assert png_size(png) == (round(width * 2), round(height * 2))
    assert width > 800 and height > 900  # the main chart, hyperparameters, parallel coordinates, importance
    assert distinct_colours(png.read_bytes()) > 100


def test_export_writes_the_analytics_table_as_csv_json_and_parquet(cli_env: Store, tmp_path: Path) -> None:
    csv, records = tmp_path / "trials.csv", tmp_path / "trials.json"
    modeltune_cli("export", "mixed", "-o", str(csv), check=True)
    modeltune_cli("export", "mixed", "-o", str(records), check=True)

    from_csv = pd.read_csv(csv)
    from_json = json.loads(records.read_text())
    assert list(from_csv.columns)[:2] == ["mode", "k"]
    assert {"TrainingJobName", "FinalObjectiveValue", "TuningJobName", "ObjectiveSteps"} <= set(from_csv.columns)
    assert sorted(from_csv["TrainingJobStatus"]) == ["Completed", "Completed", "Failed", "Failed"]
    assert [r["TrainingJobName"] for r in from_json] == from_csv["TrainingJobName"].tolist()
    assert from_json[0]["TrainingStartTime"].endswith("Z")
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "trials.parquet"
    modeltune_cli("export", "mixed", "-o", str(parquet), check=True)
    assert pd.read_parquet(parquet)["TrainingJobName"].tolist() == from_csv["TrainingJobName"].tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plot", "rnad", "-o", "r.html"], "error: no tuning job named 'rnad' in the store; did you mean 'rand'?"),
        (
            ["plot", "rand", "-o", "r.pdf"],
            "error: cannot write a chart to 'r.pdf': unsupported output extension '.pdf'; use one of .html, .png, .svg",
        ),
        (
            ["export", "rand", "-o", "t.xlsx"],
            "error: cannot write the table to 't.xlsx': unsupported output extension '.xlsx'; "
            "use one of .csv, .json, .parquet",
        ),
        (
            ["export", "nope", "-o", "t.csv"],
            "error: no tuning job named 'nope' in the store; 'modeltune list' shows the tuning jobs",
        ),
    ],
)
def test_mistakes_are_one_sentence(cli_env: Store, args: list[str], message: str) -> None:
    result = modeltune_cli(*args)

    assert result.returncode == 2 and result.stderr.strip() == message


def test_without_the_viz_extra_plot_names_the_install_command(cli_env: Store, tmp_path: Path) -> None:
    code = (
        "import sys\nsys.modules['altair'] = None\n"
        f"sys.argv = ['modeltune', 'plot', 'rand', '-o', {str(tmp_path / 'r.html')!r}]\n"
        "from modeltune.cli import main\nmain()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: charts need altair, which is not installed; install it with pip install 'modeltune[viz]'"
    )
