import { consoleScript } from './console-script.js';
import { consoleStyle } from './console-style.js';

/**
 * The web console: one self-contained page (no build step, no external assets, so it
 * works on a host with no internet). It is a client of the same /v1 API as the CLI; the
 * token, when the API needs one, is kept in sessionStorage only. Markup here, behaviour in
 * console-script.ts, looks in console-style.ts. Nothing from the API is ever put into the
 * page as HTML: the script only sets textContent.
 */
export const consolePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nodee</title>
<style>${consoleStyle}</style>
</head>
<body>
<header>
  <h1>nodee <span id="instance"></span></h1>
  <span class="meta" id="node"></span>
  <span class="meta" id="zk"></span>
  <span class="meta" id="scheduler"></span>
  <span class="meta" id="resources" title="reserved/capacity of memory, CPU cores and disk; then the labels"></span>
  <span class="meta"><button id="drain">drain node</button><button id="undrain">undrain node</button><button id="token-button">token</button></span>
</header>
<main>
  <section id="login" hidden>
    <h2 id="login-title">This API needs a token</h2>
    <form id="login-form">
      <input id="token" type="password" size="40" placeholder="bearer token" autocomplete="off">
      <button id="save">use</button>
      <button id="forget" type="button">forget the token</button>
    </form>
  </section>
  <div id="error" role="alert"></div>
  <div id="notice" role="status"></div>
  <section>
    <h2>Services</h2>
    <table><thead><tr><th>coordinate</th><th>artifact</th><th>state</th><th title="readiness checks passing, READY=1 received">ready</th><th>pid</th><th>restarts</th><th title="in use/limit">memory</th><th>CPU</th><th title="running/limit">pids</th><th>ports</th><th>last&nbsp;exit</th><th>command</th><th></th></tr></thead>
    <tbody id="services"></tbody></table>
  </section>
  <section id="logs-panel" hidden>
    <div class="toolbar">
      <h2>Logs of <span id="logs-of"></span></h2>
      <label>stream <select id="logs-stream"><option>stdout</option><option>stderr</option></select></label>
      <label><input type="checkbox" id="logs-follow" checked> follow</label>
      <button id="logs-close">close</button>
      <span id="logs-state"></span>
    </div>
    <pre id="logs"></pre>
  </section>
  <div class="forms">
    <section>
      <h2>Start a service</h2>
      <form id="service-form">
        <label>coordinate <input name="coordinate" required placeholder="1.myservice.user.cell"></label>
        <label>artifact <input name="artifact" required list="artifact-ids" placeholder="group:artifact:version"></label>
        <label>command <input name="command" size="28" placeholder='bin/run --flag, or ["bin/run", "a b"]'></label>
        <label>ports <input name="ports" placeholder="http admin"></label>
        <label>user <input name="user" placeholder="(the daemon's)"></label>
        <label>env <textarea name="env" rows="2" cols="28" placeholder="NAME=value, one a line"></textarea></label>
        <button>start</button>
      </form>
      <details>
        <summary>or paste a ServiceSpec as JSON or YAML (or a list of them under "services")</summary>
        <form id="spec-form">
          <textarea name="spec" rows="8" cols="60" required></textarea>
          <button>start</button>
        </form>
      </details>
      <div class="result" id="service-result"></div>
    </section>
    <section>
      <h2>Install an artifact</h2>
      <form id="install-form">
        <label>id <input name="id" required placeholder="group:artifact:version"></label>
        <label>from URL <input name="url" size="30" placeholder="(the configured repositories)"></label>
        <label>sha256 <input name="sha256" size="20" placeholder="(optional)"></label>
        <button>install</button>
      </form>
      <div class="result" id="install-result"></div>
    </section>
  </div>
  <section>
    <h2>Artifacts</h2>
    <table><thead><tr><th>id</th><th>state</th><th>files</th><th>size</th><th>installed</th></tr></thead>
    <tbody id="artifacts"></tbody></table>
    <datalist id="artifact-ids"></datalist>
  </section>
  <section id="fleet" hidden>
    <h2>Fleet <span class="meta" id="fleet-state"></span></h2>
    <table><thead><tr><th>node</th><th>state</th><th title="running/total">services</th><th title="reserved/capacity of memory, CPU cores and disk">reserved/capacity</th><th>console</th></tr></thead>
    <tbody id="fleet-nodes"></tbody></table>
    <h3>Jobs</h3>
    <table><thead><tr><th>job</th><th>type</th><th>count</th><th>version</th><th title="instances running/ready, as the scheduler last saw them">running/ready</th><th title="each placed instance: its node and state">where</th><th title="instances with no node, and why">pending</th></tr></thead>
    <tbody id="fleet-jobs"></tbody></table>
  </section>
</main>
<dialog id="confirm">
  <form method="dialog">
    <p id="confirm-text"></p>
    <p id="confirm-purge-row"><label><input type="checkbox" id="confirm-purge"> also purge the runtime dir (its files and logs are deleted)</label></p>
    <button id="confirm-ok" value="ok"></button>
    <button id="confirm-cancel" value="cancel">cancel</button>
  </form>
</dialog>
<script>${consoleScript}</script>
</body>
</html>
`;
