// The review page: show a report's overlay with every traced panel outlined and named, let the reader correct
// lead names, layout, speed, gain and excluded leads, and post the correction (a new version of the report).
// Everything from the report is inserted as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];
const LAYOUTS = ["3x4", "3x4+1", "3x4+3", "6x2", "12x1"];
const MEASURES = [["Heart rate", "heart_rate_bpm", "bpm"], ["PR", "pr_ms", "ms"], ["QRS", "qrs_ms", "ms"],
  ["QT", "qt_ms", "ms"], ["QTc (Bazett)", "qtc_bazett_ms", "ms"], ["P axis", "p_axis_deg", "°"],
  ["QRS axis", "qrs_axis_deg", "°"], ["T axis", "t_axis_deg", "°"]];
const reportId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const base = `/api/v1/reports/${encodeURIComponent(reportId)}`;
const keyInput = $("api-key");
keyInput.value = sessionStorage.getItem("ecgscreen-key") || "";

let current = null; // the job body of the version shown
let selected = null; // index of the selected panel
let rename = {}; // pending renames: lead name in this version → lead it really is
let rhythm = {}; // pending rhythm-strip leads: panel index → lead

function authHeaders(extra) {
  return { "X-API-Key": keyInput.value, ...(extra || {}) };
}

async function detail(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : body.detail.map((e) => e.msg).join("; ");
  } catch (e) {
    return response.statusText;
  }
}

function say(message) {
  $("error").textContent = message || "";
}

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  select.append(o);
  return o;
}

async function getJson(url) {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw new Error(await detail(response));
  return response.json();
}

async function load(version) {
  say("");
  sessionStorage.setItem("ecgscreen-key", keyInput.value);
  $("busy").textContent = "loading…";
  try {
    let body = await getJson(version ? `${base}?version=${version}` : base);
    while (body.state === "queued" || body.state === "running") {
      $("busy").textContent = `the report is ${body.state}…`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      body = await getJson(base);
    }
    if (body.state === "failed") throw new Error(body.error || "the report failed");
    await show(body);
  } catch (e) {
    say(String(e.message || e));
  } finally {
    $("busy").textContent = "";
  }
}

async function fetchBlobUrl(url) {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw new Error(await detail(response));
  return URL.createObjectURL(await response.blob());
}

async function showVersions(body) {
  const list = await getJson(`${base}/versions`);
  const select = $("version");
  select.replaceChildren();
  for (const v of list.versions.filter((item) => item.state === "done")) {
    const text = v.corrections ? `${v.version} — ${v.corrections.changed.join("; ")}` : `${v.version} — automatic`;
    option(select, String(v.version), text).selected = v.version === body.version;
  }
}

async function show(body) {
  current = body;
  selected = null;
  rename = {};
  rhythm = {};
  const report = body.report;
  const d = report.digitization;
  $("review").hidden = false;
  $("version-label").textContent = `version ${body.version} of ${body.latest_version}`;
  const fix = report.review && report.review.corrections;
  $("correction").textContent = fix
    ? `Corrected by the reader: ${fix.changed.join("; ")} (by ${fix.by}, ${fix.at})${fix.note ? ` — “${fix.note}”` : ""}`
    : "Automatic reading (no correction).";
  $("screening").textContent = report.status.text;
  $("confirmation").textContent = report.status.confirmation;
  const rows = $("measurements").querySelector("tbody");
  rows.replaceChildren();
  const m = report.measurements || {};
  for (const [label, key, unit] of MEASURES) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = label;
    td.id = `m-${key}`;
    td.dataset.value = m[key] === null || m[key] === undefined ? "" : String(m[key]);
    td.textContent = td.dataset.value === "" ? "—" : `${Math.round(m[key])} ${unit}`;
    tr.append(th, td);
    rows.append(tr);
  }
  const findings = $("findings");
  findings.replaceChildren();
  for (const f of report.findings || []) {
    const li = document.createElement("li");
    li.textContent = f.statement;
    findings.append(li);
  }
  if (body.links.pdf) {
    $("pdf-link").href = await fetchBlobUrl(body.links.pdf);
    $("pdf-link").download = `ecg-report-${body.id}-v${body.version}.pdf`;
  }
  fillSettings(report);
  await showVersions(body);
  const img = $("overlay");
  if (d && body.links["overlay.png"]) {
    const loaded = new Promise((resolve) => { img.onload = resolve; });
    img.src = await fetchBlobUrl(body.links["overlay.png"]);
    await loaded;
  }
  drawPanels();
  showPending();
  $("review").dataset.version = String(body.version);
}

function fillSettings(report) {
  const d = report.digitization || {};
  const user = (report.review && report.review.user_set) || {};
  const layout = $("layout");
  layout.replaceChildren();
  option(layout, "", `as read (${d.layout || "—"})`);
  for (const name of LAYOUTS) option(layout, name, name).selected = user.layout === name;
  $("speed").value = d.speed_mm_s || "";
  $("gain").value = d.gain_mm_mv || "";
  $("note").value = "";
  const box = $("exclude");
  for (const old of box.querySelectorAll("label")) old.remove();
  for (const lead of LEADS) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = lead;
    input.checked = (user.exclude || []).includes(lead);
    input.addEventListener("change", showPending);
    label.append(input, document.createTextNode(lead));
    box.append(label);
  }
  const lead = $("panel-lead");
  lead.replaceChildren();
  for (const name of LEADS) option(lead, name, name);
}

function isStrip(p) {
  const d = current.report.digitization || {};
  return (d.layout === "3x4+1" || d.layout === "3x4+3") && p.row >= 3;
}

function shownName(p) {
  if (rhythm[p.index]) return rhythm[p.index];
  return isStrip(p) ? p.lead : rename[p.lead] || p.lead;
}

function panels() {
  const d = current && current.report.digitization;
  return (d && d.panels) || [];
}

function drawPanels() {
  const stage = $("stage");
  for (const old of stage.querySelectorAll(".panel")) old.remove();
  const img = $("overlay");
  const w = img.naturalWidth || 1;
  const h = img.naturalHeight || 1;
  for (const p of panels()) {
    const [x0, y0, x1, y1] = p.box;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "panel" + (p.confidence < 0.5 ? " low" : "") + (p.index === selected ? " selected" : "");
    if (shownName(p) !== p.lead) button.classList.add("renamed");
    button.style.left = `${(100 * Math.max(0, x0)) / w}%`;
    button.style.top = `${(100 * Math.max(0, y0)) / h}%`;
    button.style.width = `${(100 * (Math.min(w, x1) - Math.max(0, x0))) / w}%`;
    button.style.height = `${(100 * (Math.min(h, y1) - Math.max(0, y0))) / h}%`;
    button.dataset.index = String(p.index);
    button.dataset.lead = p.lead;
    const name = shownName(p) !== p.lead ? `${p.lead} → ${shownName(p)}` : p.lead;
    const span = document.createElement("span");
    span.textContent = `${name} ${p.confidence.toFixed(2)}`;
    button.append(span);
    button.setAttribute("aria-label", `panel ${p.index + 1}: lead ${name}, confidence ${p.confidence.toFixed(2)}`);
    button.addEventListener("click", () => select(p.index));
    stage.append(button);
  }
}

function select(index) {
  selected = index;
  const p = panels().find((item) => item.index === index);
  $("panel-editor").disabled = false;
  $("panel-name").textContent = `${index + 1} (${p.lead})`;
  $("panel-lead").value = shownName(p);
  drawPanels();
  $("panel-lead").focus();
}

function applyRename() {
  const p = panels().find((item) => item.index === selected);
  if (!p) return;
  const to = $("panel-lead").value;
  if (isStrip(p)) { // a rhythm strip repeats a lead: name it on its own, not every panel of that name
    if (to === p.lead) delete rhythm[p.index];
    else rhythm[p.index] = to;
    drawPanels();
    showPending();
    return;
  }
  const shown = new Set(panels().filter((item) => !isStrip(item)).map((item) => item.lead));
  if (to === p.lead) {
    delete rename[p.lead];
  } else {
    rename[p.lead] = to;
    if (shown.has(to) && !rename[to]) rename[to] = p.lead; // a name another panel has: swap the two
  }
  drawPanels();
  showPending();
  const again = $("stage").querySelector(`.panel[data-index="${selected}"]`);
  if (again) again.focus();
}

function correction() {
  const report = current.report;
  const d = report.digitization || {};
  const user = (report.review && report.review.user_set) || {};
  const body = {};
  if (Object.keys(rename).length) body.rename = { ...rename };
  if (Object.keys(rhythm).length) body.rhythm_leads = panels().filter(isStrip).map((p) => rhythm[p.index] || p.lead);
  const layout = $("layout").value;
  if (layout && layout !== user.layout && layout !== d.layout) body.layout = layout;
  const speed = parseFloat($("speed").value);
  if (!Number.isNaN(speed) && speed !== d.speed_mm_s) body.speed_mm_s = speed;
  const gain = parseFloat($("gain").value);
  if (!Number.isNaN(gain) && gain !== d.gain_mm_mv) body.gain_mm_mv = gain;
  const was = new Set(user.exclude || []);
  const now = [...$("exclude").querySelectorAll("input:checked")].map((input) => input.value);
  const add = now.filter((lead) => !was.has(lead));
  const back = [...was].filter((lead) => !now.includes(lead));
  if (add.length) body.exclude = add;
  if (back.length) body.include = back;
  return body;
}

function showPending() {
  if (!current) return;
  const body = correction();
  const parts = [];
  for (const [a, b] of Object.entries(body.rename || {})) parts.push(`${a} → ${b}`);
  if (body.rhythm_leads) parts.push(`rhythm strip ${body.rhythm_leads.join(", ")}`);
  if (body.layout) parts.push(`layout ${body.layout}`);
  if (body.speed_mm_s) parts.push(`speed ${body.speed_mm_s} mm/s`);
  if (body.gain_mm_mv) parts.push(`gain ${body.gain_mm_mv} mm/mV`);
  for (const lead of body.exclude || []) parts.push(`exclude ${lead}`);
  for (const lead of body.include || []) parts.push(`include ${lead}`);
  $("pending").textContent = parts.length ? parts.join("; ") : "none";
}

async function rerun(event) {
  event.preventDefault();
  say("");
  const body = correction();
  if (!Object.keys(body).length) return say("nothing changed: rename a panel or change a setting first");
  const note = $("note").value.trim();
  if (note) body.note = note;
  body.base_version = current.version;
  $("rerun").disabled = true;
  $("busy").textContent = "re-running the report with your corrections…";
  try {
    const response = await fetch(`${base}/corrections`, {
      method: "POST", headers: authHeaders({ "Content-Type": "application/json" }), body: JSON.stringify(body),
    });
    if (!response.ok) {
      const why = await detail(response);
      return say(response.status === 409 ? `${why} (choose the latest version and correct again)` : why);
    }
    await show(await response.json());
  } catch (e) {
    say(String(e.message || e));
  } finally {
    $("rerun").disabled = false;
    $("busy").textContent = "";
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load(null);
});
$("version").addEventListener("change", () => load($("version").value));
$("rename").addEventListener("click", applyRename);
$("panel-lead").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    applyRename();
  }
});
for (const id of ["layout", "speed", "gain"]) $(id).addEventListener("input", showPending);
$("correct-form").addEventListener("submit", rerun);
window.addEventListener("resize", drawPanels);
if (keyInput.value) load(null);
