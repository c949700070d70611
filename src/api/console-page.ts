/**
 * The web console: one self-contained page (no build step, no external assets, so it
 * works on a host with no internet). It is a client of the same /v1 API as the CLI; the
 * token, when the API needs one, is kept in sessionStorage only.
 */
export const consolePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nodee</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; }
  header { background: #1d2330; color: #fff; padding: .8rem 1.2rem; display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 1.2rem; margin: 0; }
  header .meta { font-size: .9rem; opacity: .85; }
  main { padding: 1rem 1.2rem; display: grid; gap: 1.2rem; }
  section { background: #fff; border-radius: 6px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 1rem; margin: 0 0 .6rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e5e7eb; }
  th { font-weight: 600; color: #4b5563; }
  .state { font-weight: 600; }
  .running, .active, .installed, .connected { color: #15803d; }
  .failed, .exited, .disconnected { color: #b91c1c; }
  .draining, .backoff, .stopping, .starting, .installing, .connecting { color: #b45309; }
  button { font-size: .8rem; margin-right: .2rem; cursor: pointer; }
  #error { color: #b91c1c; white-space: pre-wrap; }
  #login { display: none; }
</style>
</head>
<body>
<header>
  <h1>nodee <span id="instance"></span></h1>
  <span class="meta" id="node"></span>
  <span class="meta" id="zk"></span>
  <span class="meta"><button id="drain">drain node</button><button id="undrain">undrain node</button></span>
</header>
<main>
  <section id="login">
    <h2>This API needs a token</h2>
    <input id="token" type="password" size="40" placeholder="bearer token"> <button id="save">use</button>
  </section>
  <div id="error"></div>
  <section>
    <h2>Services</h2>
    <table><thead><tr><th>coordinate</th><th>artifact</th><th>state</th><th>pid</th><th>restarts</th><th>ports</th><th>last exit</th><th></th></tr></thead>
    <tbody id="services"></tbody></table>
  </section>
  <section>
    <h2>Artifacts</h2>
    <table><thead><tr><th>id</th><th>state</th><th>files</th><th>size</th><th>installed</th></tr></thead>
    <tbody id="artifacts"></tbody></table>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem("nodee-token") || "";

async function api(method, path) {
  const headers = token() ? { authorization: "Bearer " + token() } : {};
  const res = await fetch(path, { method, headers });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (res.status === 401) { $("login").style.display = "block"; throw new Error("token needed"); }
  if (!res.ok) throw new Error(body && body.error ? body.error.code + ": " + body.error.message : "HTTP " + res.status);
  return body;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function size(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return bytes.toFixed(i ? 1 : 0) + " " + units[i];
}

function action(td, label, method, path) {
  const b = document.createElement("button");
  b.textContent = label;
  b.onclick = () => api(method, path).then(refresh, show);
  td.appendChild(b);
}

function show(err) { $("error").textContent = err ? String(err.message || err) : ""; }

async function refresh() {
  try {
    const [status, artifacts, services] = await Promise.all([
      api("GET", "/v1/status"), api("GET", "/v1/artifacts"), api("GET", "/v1/services")]);
    $("login").style.display = "none";
    $("instance").textContent = status.instance;
    $("node").innerHTML = "";
    $("node").append(status.hostname + " · v" + status.version + " · ");
    const st = document.createElement("span");
    st.className = "state " + status.state; st.textContent = status.state;
    $("node").append(st, " · load " + status.machine.loadavg.map((l) => l.toFixed(2)).join(" "));
    $("zk").textContent = "zookeeper: " + status.zookeeper.state + (status.zookeeper.path ? " " + status.zookeeper.path : "");
    $("zk").className = "meta " + status.zookeeper.state;

    const sv = $("services"); sv.innerHTML = "";
    for (const s of services.services) {
      const tr = document.createElement("tr");
      cell(tr, s.coordinate); cell(tr, s.artifact); cell(tr, s.state, "state " + s.state);
      cell(tr, s.pid); cell(tr, s.restarts);
      cell(tr, Object.entries(s.ports || {}).map(([k, v]) => k + "=" + v).join(" "));
      cell(tr, s.lastExit ? (s.lastExit.signal || "code " + s.lastExit.code) : "");
      const td = cell(tr, "");
      const base = "/v1/services/" + encodeURIComponent(s.coordinate);
      action(td, "start", "POST", base + "/start");
      action(td, "stop", "POST", base + "/stop");
      action(td, "restart", "POST", base + "/restart");
      action(td, "drain", "POST", base + "/drain");
      sv.appendChild(tr);
    }
    const av = $("artifacts"); av.innerHTML = "";
    for (const a of artifacts.artifacts) {
      const tr = document.createElement("tr");
      cell(tr, a.id); cell(tr, a.state, "state " + a.state); cell(tr, a.fileCount);
      cell(tr, size(a.sizeBytes)); cell(tr, a.installedAt);
      av.appendChild(tr);
    }
    show(null);
  } catch (err) { show(err); }
}

$("save").onclick = () => { sessionStorage.setItem("nodee-token", $("token").value); refresh(); };
$("drain").onclick = () => api("POST", "/v1/drain").then(refresh, show);
$("undrain").onclick = () => api("POST", "/v1/undrain").then(refresh, show);
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
