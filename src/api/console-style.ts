/** The console's CSS (inline: the page's CSP allows inline styles and nothing external). */
export const consoleStyle = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; }
  header { background: #1d2330; color: #fff; padding: .8rem 1.2rem; display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 1.2rem; margin: 0; }
  header .meta { font-size: .9rem; opacity: .85; }
  header .running, header .active, header .connected { color: #86efac; }
  header .draining, header .connecting { color: #fcd34d; }
  header .disconnected { color: #fca5a5; }
  main { padding: 1rem 1.2rem; display: grid; gap: 1.2rem; }
  section { background: #fff; border-radius: 6px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 1rem; margin: 0 0 .6rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
  th { font-weight: 600; color: #4b5563; }
  td.command { font-family: ui-monospace, monospace; font-size: .8rem; max-width: 24rem; overflow-wrap: anywhere; }
  .state { font-weight: 600; }
  .running, .active, .installed, .connected { color: #15803d; }
  .failed, .exited, .disconnected { color: #b91c1c; }
  .draining, .backoff, .stopping, .starting, .waiting, .installing, .connecting { color: #b45309; }
  td.ready.yes { color: #15803d; }
  td.ready.no { color: #b45309; }
  .stopped { color: #6b7280; }
  #fleet h3 { font-size: .9rem; margin: .9rem 0 .4rem; }
  #fleet-state { font-weight: normal; font-size: .85rem; color: #6b7280; margin-left: .5rem; }
  td.exit.oom { color: #b91c1c; font-weight: 600; }
  /* no cgroups: a stop may miss an escaped descendant, worth a glance */
  header .containment-none { color: #fcd34d; }
  td.memory, td.cpu, td.pids { white-space: nowrap; font-variant-numeric: tabular-nums; }
  button { font-size: .8rem; margin-right: .2rem; cursor: pointer; }
  button:disabled { cursor: default; opacity: .45; }
  /* on the dark bar a faded light button vanishes: keep the label readable, the outline dim */
  header button:disabled { opacity: 1; background: transparent; color: #9aa3b5; border: 1px solid #4b5565; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-start; }
  form label { display: flex; flex-direction: column; font-size: .8rem; color: #4b5563; gap: .15rem; }
  input, textarea, select { font: inherit; font-size: .85rem; }
  textarea { font-family: ui-monospace, monospace; }
  form button { align-self: flex-end; }
  details { margin-top: .6rem; }
  summary { cursor: pointer; font-size: .85rem; color: #4b5563; }
  .forms { display: grid; gap: 1.2rem; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); }
  .result { font-size: .85rem; margin-top: .4rem; white-space: pre-wrap; min-height: 1.2em; }
  .error { color: #b91c1c; }
  .ok { color: #15803d; }
  #error { white-space: pre-wrap; }
  #error:empty, #notice:empty { display: none; }
  #error, #notice { background: #fff; border-radius: 6px; padding: .6rem 1rem; }
  #notice { color: #15803d; }
  #logs { background: #0f172a; color: #e2e8f0; padding: .6rem; border-radius: 4px; max-height: 24rem; overflow: auto; font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: .6rem 0 0; }
  .toolbar { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; font-size: .85rem; }
  dialog { border: 0; border-radius: 6px; box-shadow: 0 4px 24px #0004; max-width: 32rem; }
  dialog::backdrop { background: #0006; }
`;
