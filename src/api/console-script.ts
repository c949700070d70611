import { RESOURCE_TEXT_FUNCTIONS } from '../lib/resources.js';
import { AT_REST } from '../services/index.js';
import { consoleFleet } from './console-fleet.js';
import { consoleForms } from './console-forms.js';

/**
 * The console's own JavaScript: the API client, the node header and the services table.
 * Plain browser JavaScript in a string (no build step); it must not contain a backquote or
 * a dollar-brace of its own. Rule: API data only ever reaches the page through
 * textContent (`el()`), never as HTML; coordinates, commands and log lines are untrusted.
 */
export const consoleScript = `
"use strict";
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "nodee-token";
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
// the states in which a service has no process and none coming (the daemon's own list)
const AT_REST = ${JSON.stringify(AT_REST)};

class ApiError extends Error {
  constructor(status, code, message) {
    super(code + ": " + message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Every request of the console goes through here: the token, JSON bodies (the API refuses
 * any other body with 415) and the API's {"error":{"code","message"}} answers.
 */
async function request(method, path, body, signal) {
  const headers = {};
  if (token()) headers.authorization = "Bearer " + token();
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.ok) return res;
  const text = await res.text();
  let error;
  try { error = JSON.parse(text).error; } catch (e) { error = undefined; }
  if (res.status === 401) askForToken();
  if (error && error.code) throw new ApiError(res.status, error.code, error.message);
  throw new ApiError(res.status, "HTTP_" + res.status, text || res.statusText);
}

async function api(method, path, body) {
  const text = await (await request(method, path, body)).text();
  return text ? JSON.parse(text) : undefined;
}

function askForToken() {
  $("login-title").textContent = token() ? "The token was refused: paste the right one" : "This API needs a token";
  if ($("login").hidden) {
    $("login").hidden = false;
    $("token").focus();
  }
}

/** An element whose text (never HTML) is text. */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

/** The error banner; its source lets a good refresh clear its own errors, not an action's. */
function showError(err, source) {
  $("error").textContent = err ? String(err.message || err) : "";
  $("error").dataset.from = err ? source || "action" : "";
}
function notice(text) { $("notice").textContent = text || ""; }

function size(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return bytes.toFixed(i ? 1 : 0) + " " + units[i];
}

// the CLI's own words for resources, usage and exits (src/lib/resources.ts): exitText,
// memoryText, cpuText, pidsText, reservedText, labelsText, specResources...
${RESOURCE_TEXT_FUNCTIONS.map(String).join('\n')}

const serviceUrl = (c) => "/v1/services/" + encodeURIComponent(c);

/**
 * Which buttons apply in which state. start and restart are also off while the node
 * drains (the daemon refuses them with NODE_DRAINING); remove only at rest, as the daemon
 * demands (SERVICE_RUNNING otherwise).
 */
const ACTIONS = {
  start: (s, node) => node === "active" && (AT_REST.includes(s) || s === "backoff"),
  stop: (s) => !AT_REST.includes(s) && s !== "stopping",
  restart: (s, node) => node === "active" && (s === "running" || s === "starting" || s === "backoff"),
  drain: (s) => s === "running",
  logs: () => true,
  remove: (s) => AT_REST.includes(s),
};

/** Runs an operator's action: the button is off meanwhile, the outcome is shown either way. */
async function act(button, run) {
  button.disabled = true;
  showError(null);
  try {
    const done = await run();
    if (done !== null) notice(done);
  } catch (err) {
    notice(null);
    showError(err);
  }
  await refresh();
}

function serviceAction(s, action) {
  const c = s.coordinate;
  switch (action) {
    case "logs": return () => openLogs(c);
    case "remove": return async () => {
      const answer = await confirmDialog("Remove " + c + "? The daemon forgets it.", "remove", true);
      if (!answer) return null;
      await api("DELETE", serviceUrl(c) + (answer.purge ? "?purge=true" : ""));
      return "removed " + c + (answer.purge ? " and purged its runtime dir" : "");
    };
    default: return async () => {
      const after = await api("POST", serviceUrl(c) + "/" + action);
      return action + ": " + c + " is " + after.state + (after.pid ? " (pid " + after.pid + ")" : "");
    };
  }
}

/** Rows are kept per coordinate and updated in place, so a refresh never steals focus. */
const rows = new Map();

function serviceRow(s) {
  let row = rows.get(s.coordinate);
  if (row) return row;
  const tr = el("tr");
  tr.dataset.coordinate = s.coordinate;
  const cells = {};
  for (const name of ["coordinate", "artifact", "state", "ready", "pid", "restarts", "memory", "cpu", "pids", "ports", "exit", "command"]) {
    cells[name] = tr.appendChild(el("td", undefined, name));
  }
  const buttons = {};
  const td = tr.appendChild(el("td", undefined, "actions"));
  for (const action of Object.keys(ACTIONS)) {
    const b = td.appendChild(el("button", action));
    b.dataset.action = action;
    b.onclick = () => act(b, serviceAction(row.service, action));
    buttons[action] = b;
  }
  row = { tr, cells, buttons, service: s };
  rows.set(s.coordinate, row);
  return row;
}

function renderServices(services, nodeState) {
  const body = $("services");
  const seen = new Set();
  for (const s of services) {
    seen.add(s.coordinate);
    const row = serviceRow(s);
    row.service = s;
    const c = row.cells;
    c.coordinate.textContent = s.coordinate;
    c.artifact.textContent = s.artifact;
    c.state.textContent = s.state;
    c.state.className = "state " + s.state;
    c.ready.textContent = s.ready === undefined ? "" : s.ready ? "yes" : "no";
    c.ready.className = "ready " + (s.ready ? "yes" : "no");
    // what decides it, on hover: the service's own STATUS= and each check's last result
    c.ready.title = [s.statusText || "", ...(s.checks || []).map((k) => k.name + " (" + k.type + "): " + k.status + (k.output ? ", " + k.output : ""))].filter(Boolean).join("\\n");
    c.pid.textContent = s.pid === null ? "" : String(s.pid);
    c.restarts.textContent = String(s.restarts);
    const spec = s.spec || {};
    const limits = specResources(spec);
    const usage = s.usage || { memoryBytes: null, cpuSeconds: null, pids: null };
    c.memory.textContent = memoryText(usage.memoryBytes, limits.memoryMB);
    c.cpu.textContent = cpuText(usage.cpuSeconds);
    c.cpu.title = limits.cpu === undefined ? "" : "limit " + figure(limits.cpu) + " cores";
    c.pids.textContent = pidsText(usage.pids, limits.pids);
    c.ports.textContent = Object.entries(s.ports || {}).map(([k, v]) => k + "=" + v).join(" ");
    c.exit.textContent = exitText(s.lastExit);
    c.exit.title = s.lastExit ? s.lastExit.at + (s.lastExit.oom ? ": over its memory limit, killed by the kernel" : "") : "";
    c.exit.className = "exit" + (s.lastExit && s.lastExit.oom ? " oom" : "");
    c.command.textContent = [].concat(spec.command || [], spec.args || []).join(" ");
    for (const [action, applies] of Object.entries(ACTIONS)) row.buttons[action].disabled = !applies(s.state, nodeState);
    body.appendChild(row.tr); // appending moves it: rows follow the API's order
  }
  for (const [coordinate, row] of rows) {
    if (!seen.has(coordinate)) { row.tr.remove(); rows.delete(coordinate); }
  }
}

function renderArtifacts(artifacts) {
  const body = $("artifacts");
  body.replaceChildren();
  $("artifact-ids").replaceChildren(...artifacts.map((a) => { const o = el("option"); o.value = a.id; return o; }));
  for (const a of artifacts) {
    const tr = el("tr");
    tr.append(el("td", a.id), el("td", a.state, "state " + a.state), el("td", a.fileCount), el("td", size(a.sizeBytes)), el("td", a.installedAt));
    body.appendChild(tr);
  }
}

function renderNode(status) {
  $("instance").textContent = status.instance;
  $("node").replaceChildren(
    status.hostname + " · v" + status.version + " · ",
    el("span", status.state, "state " + status.state),
    " · load " + status.machine.loadavg.map((l) => l.toFixed(2)).join(" "));
  $("zk").textContent = "zookeeper: " + status.zookeeper.state + (status.zookeeper.path ? " " + status.zookeeper.path : "");
  $("zk").className = "meta " + status.zookeeper.state;
  // who leads the cell's scheduler (this node or which other); nothing while it is off
  const sched = status.scheduler;
  $("scheduler").textContent = sched && sched.enabled ? (sched.leader ? "scheduler: leading" : "scheduler leader: " + (sched.leaderInstance || "none yet")) : "";
  const labels = labelsText(status.labels);
  $("resources").textContent = "containment: " + status.containment + " · reserved " + reservedText(status.resources) + (labels === "-" ? "" : " · " + labels);
  $("resources").className = "meta containment-" + status.containment;
  $("drain").disabled = status.state !== "active";
  $("undrain").disabled = status.state === "active";
}

// one refresh at a time: a slow answer is not overtaken by an older one
let refreshing;
function refresh() {
  refreshing ??= (async () => {
    try {
      const [status, artifacts, services] = await Promise.all([
        api("GET", "/v1/status"), api("GET", "/v1/artifacts"), api("GET", "/v1/services"), refreshFleet()]);
      $("login").hidden = true;
      renderNode(status);
      renderServices(services.services, status.state);
      renderArtifacts(artifacts.artifacts);
      if ($("error").dataset.from === "refresh") showError(null);
    } catch (err) {
      if (!$("error").dataset.from || $("error").dataset.from === "refresh") showError(err, "refresh");
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/**
 * An in-page confirmation (not window.confirm: it blocks the page's polling). Resolves
 * {purge} when confirmed, null when cancelled or dismissed with Escape.
 */
function confirmDialog(text, okLabel, withPurge) {
  const d = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = okLabel;
  $("confirm-purge-row").hidden = !withPurge;
  $("confirm-purge").checked = false;
  d.returnValue = "";
  d.showModal();
  return new Promise((resolve) => {
    d.onclose = () => resolve(d.returnValue === "ok" ? { purge: $("confirm-purge").checked } : null);
  });
}

$("drain").onclick = () => act($("drain"), async () => {
  const node = $("instance").textContent;
  if (!await confirmDialog("Drain node " + node + "? Every service is drained and stopped, and no service may start until the node is undrained.", "drain node", false)) return null;
  const status = await api("POST", "/v1/drain");
  return "node " + status.instance + " is " + status.state;
});
$("undrain").onclick = () => act($("undrain"), async () => {
  const status = await api("POST", "/v1/undrain");
  return "node " + status.instance + " is " + status.state;
});
$("token-button").onclick = () => askForToken();
$("login-form").onsubmit = (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  refresh();
};
$("forget").onclick = () => { sessionStorage.removeItem(TOKEN_KEY); refresh(); };
${consoleForms}
${consoleFleet}
refresh();
setInterval(refresh, 2000);
`;
