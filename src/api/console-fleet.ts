/**
 * The console's fleet view: every node of the cell and every job, as this daemon reads them
 * from ZooKeeper (GET /v1/cluster/nodes and /v1/cluster/jobs). More of the page's script,
 * spliced into console-script.ts after its helpers (api, el, reservedText). Same rules: no
 * backquote or dollar-brace, text only, never HTML: records and jobs are anyone's writing.
 */
export const consoleFleet = `
// ---- the fleet: shown only where there is one (a standalone daemon answers 503, one
// without the fleet routes 404); once shown, an outage keeps the last view, marked as old
let fleetShown = false;

async function refreshFleet() {
  let nodes, jobs;
  try {
    [nodes, jobs] = await Promise.all([api("GET", "/v1/cluster/nodes"), api("GET", "/v1/cluster/jobs")]);
  } catch (err) {
    if (err.status !== 503 && err.status !== 404) throw err;
    $("fleet").hidden = !fleetShown;
    $("fleet-state").textContent = fleetShown ? "not current: " + err.message : "";
    return;
  }
  fleetShown = true;
  $("fleet").hidden = false;
  $("fleet-state").textContent = nodes.nodes.length + " node" + (nodes.nodes.length === 1 ? "" : "s") + ", " + jobs.jobs.length + " job" + (jobs.jobs.length === 1 ? "" : "s");
  renderFleetNodes(nodes.nodes);
  renderFleetJobs(jobs.jobs);
}

/** A link to another node's console, only for an http(s) URL: a record may say anything. */
function consoleLink(url) {
  const a = el("a", url);
  if (/^https?:\\/\\//i.test(url)) a.href = url;
  return a;
}

function renderFleetNodes(nodes) {
  $("fleet-nodes").replaceChildren(...nodes.map((n) => {
    const tr = el("tr");
    tr.dataset.instance = n.instance;
    if (n.error !== undefined) {
      tr.append(el("td", n.instance, "instance"), el("td", "?", "state"), el("td", "-", "services"), el("td", "-", "resources"), el("td", "unreadable: " + n.error, "console error"));
      return tr;
    }
    const services = n.services || [];
    const running = services.filter((s) => s.state === "running").length;
    const link = el("td", undefined, "console");
    link.append(consoleLink(String(n.console && n.console.url)));
    tr.append(el("td", n.instance, "instance"), el("td", n.state, "state " + n.state), el("td", running + "/" + services.length, "services"),
      el("td", n.resources ? reservedText(n.resources) : "-", "resources"), link);
    return tr;
  }));
}

/** Where each placed instance runs, and in what state: "0 on node-a (running), 1 on node-b (starting)". */
function placed(s) {
  const on = s ? s.instances.filter((i) => i.node) : [];
  return on.length ? on.map((i) => i.coordinate.split(".")[0] + " on " + i.node + " (" + i.state + (i.ready ? ", ready" : "") + ")").join(", ") : "-";
}

function renderFleetJobs(jobs) {
  $("fleet-jobs").replaceChildren(...jobs.map((e) => {
    const tr = el("tr");
    tr.dataset.job = e.name;
    const j = e.job;
    const s = e.status;
    const ready = s ? s.instances.filter((i) => i.ready).length : null;
    const pending = s ? s.pending.length + (s.pending.length ? ": " + s.pending.map((p) => p.coordinate + " " + p.reason).join("; ") : "") : "-";
    tr.append(el("td", e.name, "name"), el("td", j ? j.type : "?", "type"), el("td", j ? j.count : "-", "count"), el("td", j ? j.version : "-", "version"),
      el("td", s ? (s.counts.running || 0) + "/" + ready : "-", "running"), el("td", placed(s), "where"), el("td", e.error ? "unreadable: " + e.error : pending, "pending" + (e.error ? " error" : "")));
    return tr;
  }));
}
`;
