// The upload page: post the file, poll the job, show the result. Everything user-supplied is inserted as text.
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
keyInput.value = sessionStorage.getItem("ecgscreen-key") || "";

function authHeaders() {
  return { "X-API-Key": keyInput.value };
}

async function detail(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (e) {
    return response.statusText;
  }
}

function showError(message) {
  $("error").textContent = message;
  $("state").textContent = "failed";
  $("submit").disabled = false;
}

async function fetchBlobUrl(url) {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw new Error(await detail(response));
  return URL.createObjectURL(await response.blob());
}

function fmt(value, unit) {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ${unit}`;
}

async function showReport(job) {
  const report = job.report;
  $("screening").textContent = report.status.text;
  $("confirmation").textContent = report.status.confirmation;
  const rows = $("measurements").querySelector("tbody");
  rows.replaceChildren();
  const m = report.measurements || {};
  for (const [label, key, unit] of [["Heart rate", "heart_rate_bpm", "bpm"], ["PR", "pr_ms", "ms"],
    ["QRS", "qrs_ms", "ms"], ["QT", "qt_ms", "ms"], ["QTc", "qtc_ms", "ms"]]) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = label;
    td.textContent = fmt(m[key], unit);
    tr.append(th, td);
    rows.append(tr);
  }
  const list = $("findings");
  list.replaceChildren();
  for (const finding of report.findings || []) {
    const li = document.createElement("li");
    li.textContent = finding.statement;
    list.append(li);
  }
  const link = $("pdf-link");
  link.href = await fetchBlobUrl(job.links.pdf);
  link.download = `ecg-report-${job.id}.pdf`;
  link.dataset.reportId = job.id;
  if (job.links["overlay.png"]) {
    $("overlay").src = await fetchBlobUrl(job.links["overlay.png"]);
    $("overlay-figure").hidden = false;
  }
  $("result").hidden = false;
}

async function poll(location) {
  for (;;) {
    const response = await fetch(location, { headers: authHeaders() });
    if (!response.ok) return showError(await detail(response));
    const job = await response.json();
    $("state").textContent = job.state;
    if (job.state === "done") {
      $("submit").disabled = false;
      return showReport(job);
    }
    if (job.state === "failed") return showError(job.error || "the job failed");
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

$("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem("ecgscreen-key", keyInput.value);
  $("submit").disabled = true;
  $("result").hidden = true;
  $("progress").hidden = false;
  $("error").textContent = "";
  $("state").textContent = "uploading";
  const form = new FormData(event.target);
  for (const [name, value] of [...form.entries()]) if (value === "") form.delete(name);
  try {
    const response = await fetch("/api/v1/reports", { method: "POST", headers: authHeaders(), body: form });
    if (response.status === 429) {
      return showError(`busy, retry in ${response.headers.get("Retry-After") || "a few"} s`);
    }
    if (!response.ok) return showError(await detail(response));
    await poll(response.headers.get("Location"));
  } catch (e) {
    showError(String(e.message || e));
  }
});
