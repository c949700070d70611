/**
 * The console's forms (install an artifact, start a service) and its log viewer: more of
 * the page's script, spliced into console-script.ts after its helpers (api, request, el,
 * refresh). Same rules: no backquote or dollar-brace, text only, never HTML.
 */
export const consoleForms = `
function result(id, text, ok) {
  $(id).textContent = text;
  $(id).className = "result " + (ok ? "ok" : "error");
}

function formValue(form, name) { return form.elements[name].value.trim(); }

// ---- install an artifact: PUT waits until it is done, GET shows the progress meanwhile

$("install-form").onsubmit = async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const id = formValue(form, "id");
  const parts = id.split(":");
  if (parts.length !== 3 || parts.some((p) => p === "")) return result("install-result", "the id must be groupId:artifactId:version", false);
  const path = "/v1/artifacts/" + parts.map(encodeURIComponent).join("/");
  const body = {};
  if (formValue(form, "url")) body.url = formValue(form, "url");
  if (formValue(form, "sha256")) body.sha256 = formValue(form, "sha256");
  const button = form.querySelector("button");
  button.disabled = true;
  result("install-result", "installing " + id + "…", true);
  let done = false;
  const progress = setInterval(async () => {
    try {
      const a = await api("GET", path);
      if (!done && a.state === "installing" && a.progress) {
        const total = a.progress.totalBytes ? " of " + size(a.progress.totalBytes) : "";
        result("install-result", "installing " + id + ": " + size(a.progress.bytes) + total, true);
      }
    } catch (e) { /* not known yet: the download has not started */ }
  }, 500);
  try {
    const res = await request("PUT", path, body);
    const a = await res.json();
    result("install-result", (res.status === 201 ? "installed " : "already installed: ") + a.id + " (" + a.fileCount + " files, " + size(a.sizeBytes) + ")", true);
  } catch (err) {
    result("install-result", "install failed: " + (err.message || err), false);
  } finally {
    done = true;
    clearInterval(progress);
    button.disabled = false;
  }
  refresh();
};

// ---- start a service: from the form's common fields, or a pasted JSON spec

/** Words of a command: split at spaces, or a JSON array when a word holds a space. */
function words(text, what) {
  if (!text.startsWith("[")) return text.split(/\\s+/).filter(Boolean);
  const list = JSON.parse(text);
  if (!Array.isArray(list) || !list.every((w) => typeof w === "string")) throw new Error(what + ": a JSON array of strings, please");
  return list;
}

function specFromForm(form) {
  const spec = { coordinate: formValue(form, "coordinate"), artifact: formValue(form, "artifact") };
  if (formValue(form, "command")) spec.command = words(formValue(form, "command"), "command");
  const ports = formValue(form, "ports").split(/[\\s,]+/).filter(Boolean);
  if (ports.length) spec.ports = ports;
  if (formValue(form, "user")) spec.user = formValue(form, "user");
  const env = {};
  for (const line of form.elements.env.value.split("\\n")) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq < 1) throw new Error("env: " + JSON.stringify(line) + " is not NAME=value");
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  if (Object.keys(env).length) spec.env = env;
  return spec;
}

/** A pasted spec: JSON, or YAML through the yaml package's browser build (served by the daemon). */
async function parseSpecText(text) {
  try {
    return JSON.parse(text);
  } catch {
    const YAML = await import("/console/yaml/index.js");
    return YAML.parse(text);
  }
}

async function startServices(form, makeSpec) {
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const created = await api("POST", "/v1/services", await makeSpec());
    const list = created.services || [created];
    result("service-result", list.map((s) => "started " + s.coordinate + ": " + s.state + (s.pid ? " (pid " + s.pid + ")" : "")).join("\\n"), true);
  } catch (err) {
    result("service-result", "start failed: " + (err.message || err), false);
  } finally {
    button.disabled = false;
  }
  refresh();
}

$("service-form").onsubmit = (ev) => {
  ev.preventDefault();
  startServices(ev.target, () => specFromForm(ev.target));
};
$("spec-form").onsubmit = (ev) => {
  ev.preventDefault();
  startServices(ev.target, () => parseSpecText(ev.target.elements.spec.value));
};

// ---- logs: the last 200 lines, then followed through a streamed fetch until closed

const MAX_LOG_CHARS = 200000;
let logs = { coordinate: null, abort: null };

function stopLogs(state) {
  if (logs.abort) logs.abort.abort();
  logs.abort = null;
  $("logs-state").textContent = state;
}

async function openLogs(coordinate) {
  stopLogs("");
  const abort = new AbortController();
  logs = { coordinate, abort };
  $("logs-panel").hidden = false;
  $("logs-of").textContent = coordinate;
  $("logs").textContent = "";
  const follow = $("logs-follow").checked;
  const query = "?stream=" + $("logs-stream").value + "&tail=200" + (follow ? "&follow=true" : "");
  $("logs-state").textContent = follow ? "following…" : "loading…";
  let text = "";
  try {
    const res = await request("GET", serviceUrl(coordinate) + "/logs" + query, undefined, abort.signal);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length > MAX_LOG_CHARS) text = text.slice(-MAX_LOG_CHARS / 2);
      const pre = $("logs");
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.textContent = text;
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    if (logs.abort === abort) stopLogs(follow ? "the stream ended" : "");
  } catch (err) {
    if (abort.signal.aborted) return; // closed or replaced by the operator
    stopLogs("");
    $("logs-state").textContent = "logs failed: " + (err.message || err);
  }
}

$("logs-close").onclick = () => { stopLogs("closed"); $("logs-panel").hidden = true; };
$("logs-stream").onchange = () => { if (logs.coordinate) openLogs(logs.coordinate); };
$("logs-follow").onchange = () => { if (logs.coordinate) openLogs(logs.coordinate); };
`;
