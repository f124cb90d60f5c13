// The modeltune console: live updates and charts. Every value from the server is put in the page as text
// (textContent), never as HTML, so names, hyperparameters and log lines cannot inject markup.
// Everything lives in one function scope: the vega bundle declares globals of its own (e.g. "el").
(() => {
"use strict";

const api = (path) => "/api/v1" + path;
const enc = encodeURIComponent;
const TERMINAL = ["Completed", "Failed", "Stopped"];

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(problem(body, response.status));
  return body;
}

function problem(body, status) {
  if (typeof body.detail === "string") return body.detail;
  if (Array.isArray(body.detail) && body.detail.length) return body.detail[0].msg;
  return "the server answered " + status;
}

function showError(node, message) {
  node.textContent = message;
  node.hidden = false;
}

async function drawChart(target, url) {
  try {
    const spec = await getJson(url);
    await waitFor(() => window.vegaEmbed);
    target.textContent = "";
    await window.vegaEmbed(target, spec, { actions: { export: true, source: false, compiled: false, editor: false } });
    target.dataset.rendered = "true";
  } catch (error) {
    target.textContent = "";
    target.append(el("p", "Charts unavailable: " + error.message, { class: "error" }));
  }
}

// The chart library arrives with the page; a server without the viz extra cannot send it.
function waitFor(ready, seconds = 120) {
  const deadline = Date.now() + seconds * 1000;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (ready()) resolve();
      else if (Date.now() > deadline) reject(new Error("the chart library did not load; install modeltune[viz] on the server"));
      else setTimeout(check, 50);
    };
    check();
  });
}

// ---- tuning-job list -------------------------------------------------------------------------
function jobsPage() {
  const table = document.getElementById("jobs");
  if (!table) return;
  const refresh = async () => {
    const page = await getJson(api("/tuning-jobs?max_results=1000")).catch(() => null);
    if (!page) return;
    for (const s of page.HyperParameterTuningJobSummaries) {
      const row = [...table.tBodies[0].rows].find((r) => r.dataset.job === s.HyperParameterTuningJobName);
      if (!row) continue;
      const status = row.querySelector("[data-field=status]");
      status.textContent = s.HyperParameterTuningJobStatus + (s.Interrupted ? " (interrupted)" : "");
      status.className = "status " + s.HyperParameterTuningJobStatus;
      const bar = row.querySelector("[data-field=progress]");
      bar.max = s.MaxNumberOfTrainingJobs;
      bar.value = s.TrainingJobsDone;
      row.querySelector("[data-field=count]").textContent = s.TrainingJobsDone + "/" + s.MaxNumberOfTrainingJobs;
      row.querySelector("[data-field=best]").textContent = s.BestObjectiveValue ?? "";
    }
  };
  setInterval(refresh, 2000);
}

// ---- one tuning job --------------------------------------------------------------------------
function jobPage() {
  const root = document.getElementById("job");
  const name = root.dataset.name;
  const base = "/tuning-jobs/" + enc(name);
  const message = document.getElementById("message");
  const charts = document.getElementById("charts");
  const sort = document.getElementById("sort");
  const more = document.getElementById("more");
  let shown = 100;
  let lastEnded = null;
  let chartsBusy = false;
  let chartsAgain = false;

  // Charts of a big job take a while to build: at most one request at a time, and one more after it if
  // training jobs ended meanwhile.
  const redrawCharts = async () => {
    if (chartsBusy) {
      chartsAgain = true;
      return;
    }
    chartsBusy = true;
    await drawChart(charts, api(base + "/charts"));
    chartsBusy = false;
    if (chartsAgain) {
      chartsAgain = false;
      redrawCharts();
    }
  };

  const loadTable = async () => {
    const page = await getJson(api(base + "/training-jobs?sort_by=" + sort.value + "&max_results=" + shown)).catch(
      (error) => showError(message, error.message),
    );
    if (!page) return;
    const body = document.querySelector("#training-jobs tbody");
    const rows = page.TrainingJobSummaries.map((t) => {
      const row = el("tr", null, { "data-training-job": t.TrainingJobName });
      row.append(el("td", t.TrainingJobNumber));
      const link = el("a", t.TrainingJobName, { href: "/jobs/" + enc(name) + "/training-jobs/" + enc(t.TrainingJobName) });
      const cell = el("td");
      cell.append(link);
      row.append(cell, el("td", t.TrainingJobStatus, { class: "status " + t.TrainingJobStatus }));
      const objective = t.FinalHyperParameterTuningJobObjectiveMetric;
      row.append(el("td", objective ? objective.Value : ""));
      row.append(el("td", Object.entries(t.TunedHyperParameters).map(([k, v]) => k + "=" + v).join(", ")));
      row.append(el("td", t.TrainingElapsedTimeSeconds === null ? "" : t.TrainingElapsedTimeSeconds.toFixed(1)));
      row.append(el("td", t.FailureReason || t.StatusReason || ""));
      return row;
    });
    body.replaceChildren(...rows);
    more.hidden = !page.NextToken;
    document.getElementById("shown").textContent = rows.length + " shown";
  };

  const update = (event) => {
    const status = document.getElementById("status");
    status.textContent = event.HyperParameterTuningJobStatus;
    status.className = "status " + event.HyperParameterTuningJobStatus;
    const bar = document.getElementById("progress");
    bar.max = event.MaxNumberOfTrainingJobs;
    bar.value = event.TrainingJobsDone;
    document.getElementById("count").textContent = event.TrainingJobsDone + "/" + event.MaxNumberOfTrainingJobs;
    document.getElementById("stop").hidden = event.HyperParameterTuningJobStatus !== "InProgress";
    loadTable();
    if (event.LastEnded !== lastEnded || event.Terminal) {
      lastEnded = event.LastEnded;
      redrawCharts();
    }
  };

  sort.addEventListener("change", loadTable);
  more.addEventListener("click", () => {
    shown += 100;
    loadTable();
  });
  document.getElementById("stop").addEventListener("click", async () => {
    const response = await fetch(api(base + "/stop"), { method: "POST" });
    if (!response.ok) showError(message, problem(await response.json().catch(() => ({})), response.status));
  });

  loadTable();
  if (root.dataset.terminal === "true") {
    redrawCharts();
    return;
  }
  const source = new EventSource(api(base + "/events"));
  source.addEventListener("update", (e) => update(JSON.parse(e.data)));
  source.addEventListener("end", () => source.close());
}

// ---- one training job ------------------------------------------------------------------------
function trainingJobPage() {
  const root = document.getElementById("training-job");
  const base = "/tuning-jobs/" + enc(root.dataset.name) + "/training-jobs/" + enc(root.dataset.trainingJob);
  const log = document.getElementById("log");
  const curve = document.getElementById("curve");

  const drawCurve = async () => {
    const t = await getJson(api(base)).catch(() => null);
    if (!t) return;
    document.getElementById("status").textContent = t.TrainingJobStatus;
    const values = [];
    for (const [metric, series] of Object.entries(t.MetricSeries)) {
      for (const point of series) values.push({ metric: metric, step: point.Step, value: point.Value });
    }
    if (!values.length) {
      curve.textContent = "No metric values yet.";
      return;
    }
    try {
      await waitFor(() => window.vegaEmbed);
    } catch (error) {
      curve.textContent = error.message;
      return;
    }
    curve.textContent = "";
    await window.vegaEmbed(curve, {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      data: { values: values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "step", type: "quantitative", title: "Step" },
        y: { field: "value", type: "quantitative", title: "Value", scale: { zero: false } },
        color: { field: "metric", type: "nominal", title: "Metric" },
        tooltip: [{ field: "metric" }, { field: "step" }, { field: "value" }],
      },
      width: 500,
      height: 250,
    }, { actions: false });
    curve.dataset.rendered = "true";
  };

  const source = new EventSource(api(base + "/log/events"));
  source.addEventListener("update", (e) => {
    log.append(document.createTextNode(JSON.parse(e.data).text));
    drawCurve();
  });
  source.addEventListener("end", () => {
    source.close();
    log.dataset.ended = "true";
    drawCurve();
  });
}

// ---- compare ---------------------------------------------------------------------------------
function comparePage() {
  const target = document.getElementById("compare-charts");
  if (!target) return;
  const query = target.dataset.jobs.split(",").map((n) => "jobs=" + enc(n)).join("&");
  drawChart(target, api("/compare/charts?" + query));
}

// ---- create ----------------------------------------------------------------------------------
function createPage() {
  document.getElementById("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) document.getElementById("spec").value = await file.text();
  });
}

const pages = { jobs: jobsPage, job: jobPage, "training-job": trainingJobPage, compare: comparePage, create: createPage };
(pages[document.body.dataset.page] || (() => {}))();
})();
