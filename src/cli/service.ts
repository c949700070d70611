import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Service, Usage } from '../contract/index.js';
import { cpuText, exitText, memoryText, pidsText, resourcesText, specResources } from '../lib/resources.js';
import { UsageError, parseArgs, stringOption } from './args.js';
import type { CliContext } from './context.js';
import { table } from './table.js';
import { UPGRADE_USAGE, upgrade } from './upgrade.js';

export const USAGE = `usage: nodee service <verb> ...
  list
  show COORDINATE                        one service, with its spec
  start COORDINATE                       start an existing service
  start --spec FILE.json|yaml            create and start a service from a ServiceSpec
                                         (a list of specs, or {services: [...]}, starts them all)
  start COORDINATE ARTIFACT [--env K=V]... [--port NAME]... [--user USER]
        [--restart always|on-failure|never] [-- COMMAND ARGS...]
  stop|restart|drain COORDINATE
  remove COORDINATE [--purge]
  logs COORDINATE [--stream stdout|stderr|both] [--tail N] [-f]
                                         (-f follows both streams, each line marked stdout| or stderr|)
${UPGRADE_USAGE}`;

/** `nodee service …`: a thin client of /v1/services. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'list':
      return list(rest, ctx);
    case 'show':
      return show(rest, ctx);
    case 'start':
      return start(rest, ctx);
    case 'stop':
    case 'restart':
    case 'drain':
      return action(verb, rest, ctx);
    case 'remove':
      return remove(rest, ctx);
    case 'logs':
      return logs(rest, ctx);
    case 'upgrade':
      return upgrade(rest, ctx);
    default:
      throw new UsageError(verb ? `unknown service command "${verb}"` : 'missing service command');
  }
}

async function list(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, {});
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const { services } = await ctx.api.request<{ services: Service[] }>('GET', '/v1/services');
  if (ctx.json) {
    ctx.out.write(JSON.stringify(services, null, 2) + '\n');
    return 0;
  }
  const rows = services.map((s) => [
    s.coordinate,
    s.state,
    readyCell(s),
    s.pid === null ? '-' : String(s.pid),
    String(s.restarts),
    ...usageCells(s),
    s.artifact,
    Object.entries(s.ports)
      .map(([n, p]) => `${n}=${p}`)
      .join(',') || '-',
  ]);
  ctx.out.write(table([['COORDINATE', 'STATE', 'READY', 'PID', 'RESTARTS', 'MEM', 'CPU', 'PIDS', 'ARTIFACT', 'PORTS'], ...rows]));
  return 0;
}

async function start(args: string[], ctx: CliContext): Promise<number> {
  // --env and --port repeat: parseArgs keeps the last, inlineSpec reads them all
  const a = parseArgs(args, { values: ['spec', 'env', 'port', 'user', 'restart'] });
  const specFile = stringOption(a, 'spec');
  let service: Service;
  if (specFile) {
    if (a.positional.length) throw new UsageError('start --spec takes no other arguments');
    const spec = readSpec(specFile);
    // a file of many specs (a list, or {"services": [...]}) is one batch request
    const many = Array.isArray(spec) ? spec : (spec as { services?: unknown })?.services;
    if (Array.isArray(many)) {
      const { services } = await ctx.api.request<{ services: Service[] }>('POST', '/v1/services', { services: many });
      if (ctx.json) ctx.out.write(`${JSON.stringify({ services }, null, 2)}\n`);
      else ctx.out.write(table([['COORDINATE', 'STATE', 'READY', 'PID', 'ARTIFACT'], ...services.map((s) => [s.coordinate, s.state, String(s.pid ?? '-'), s.artifact])]));
      return 0;
    }
    service = await ctx.api.request<Service>('POST', '/v1/services', spec);
  } else if (a.positional.length === 1 && a.rest.length === 0 && Object.keys(a.options).length === 0) {
    service = await ctx.api.request<Service>('POST', `/v1/services/${encodeURIComponent(a.positional[0]!)}/start`);
  } else if (a.positional.length === 2) {
    service = await ctx.api.request<Service>('POST', '/v1/services', inlineSpec(args, a.positional as [string, string], a.rest));
  } else {
    throw new UsageError('start takes COORDINATE, COORDINATE ARTIFACT, or --spec FILE');
  }
  printService(service, ctx);
  return 0;
}

/** The repeatable --env and --port, read in order from the raw words. */
function inlineSpec(args: string[], [coordinate, artifact]: [string, string], command: string[]): Record<string, unknown> {
  const spec: Record<string, unknown> = { coordinate, artifact };
  const env: Record<string, string> = {};
  const ports: string[] = [];
  const end = args.indexOf('--');
  const words = end < 0 ? args : args.slice(0, end);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const [name, inline] = w.includes('=') && w.startsWith('--') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    const value = () => inline ?? words[++i]!;
    if (name === '--env') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env needs NAME=VALUE, got "${kv}"`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (name === '--port') ports.push(value());
    else if (name === '--user') spec.user = value();
    else if (name === '--restart') spec.restart = { policy: value() };
  }
  if (Object.keys(env).length) spec.env = env;
  if (ports.length) spec.ports = ports;
  if (command.length) spec.command = command;
  return spec;
}

/** A spec file: JSON or YAML (a job file too); unreadable or unparsable is a usage error. */
export function readSpec(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return parseYaml(text) as unknown; // JSON is valid YAML
  } catch (err) {
    throw new UsageError(`${file} is not JSON or YAML (${(err as Error).message})`);
  }
}

async function show(args: string[], ctx: CliContext): Promise<number> {
  const coordinate = oneCoordinate(parseArgs(args, {}).positional);
  const s = await ctx.api.request<Service>('GET', `/v1/services/${encodeURIComponent(coordinate)}`);
  if (ctx.json) {
    ctx.out.write(JSON.stringify(s, null, 2) + '\n');
    return 0;
  }
  const exit = s.lastExit ? `${exitText(s.lastExit)} at ${s.lastExit.at}` : '-';
  const [mem, cpu, pids] = usageCells(s);
  const rows: [string, string][] = [
    ['coordinate', s.coordinate],
    ['state', s.state],
    ['ready', readyCell(s)],
    ...(s.statusText ? [['status', s.statusText] as [string, string]] : []),
    ...(s.checks ?? []).map((c): [string, string] => [`check ${c.name}`, `${c.type} ${c.status}${c.output ? `: ${c.output}` : ''}`]),
    ['pid', s.pid === null ? '-' : String(s.pid)],
    ['artifact', s.artifact],
    ['started', s.startedAt ?? '-'],
    ['restarts', String(s.restarts)],
    ['last exit', exit],
    ['resources', resourcesText(specResources(s.spec)) || '-'],
    ['usage', `mem ${mem} cpu ${cpu} pids ${pids}`],
    ['ports', Object.entries(s.ports).map(([n, p]) => `${n}=${p}`).join(' ') || '-'],
    ['runtime', s.runtimeDir],
    ['command', [...words(s.spec.command), ...words(s.spec.args)].join(' ') || '-'],
  ];
  ctx.out.write(table(rows));
  return 0;
}

async function action(verb: 'stop' | 'restart' | 'drain', args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, {});
  const coordinate = oneCoordinate(a.positional);
  const service = await ctx.api.request<Service>('POST', `/v1/services/${encodeURIComponent(coordinate)}/${verb}`);
  printService(service, ctx);
  return 0;
}

async function remove(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, { flags: ['purge'] });
  const coordinate = oneCoordinate(a.positional);
  await ctx.api.request('DELETE', `/v1/services/${encodeURIComponent(coordinate)}${a.options.purge ? '?purge=true' : ''}`);
  if (!ctx.json) ctx.out.write(`removed ${coordinate}${a.options.purge ? ' (runtime dir purged)' : ''}\n`);
  return 0;
}

async function logs(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, { values: ['stream', 'tail'], flags: ['follow'], aliases: { f: 'follow', n: 'tail' } });
  const coordinate = oneCoordinate(a.positional);
  // following, an operator wants both streams as they happen; a dump stays one stream
  const stream = stringOption(a, 'stream') ?? (a.options.follow ? 'both' : 'stdout');
  if (!['stdout', 'stderr', 'both'].includes(stream)) throw new UsageError('--stream is stdout, stderr or both');
  const q = new URLSearchParams();
  const tail = stringOption(a, 'tail') ?? (a.options.follow ? '10' : undefined);
  if (tail !== undefined) q.set('tail', tail);
  if (a.options.follow) q.set('follow', 'true');
  const open = (name: string) => ctx.api.stream(`/v1/services/${encodeURIComponent(coordinate)}/logs?stream=${name}&${q}`);
  if (stream !== 'both') {
    for await (const chunk of await open(stream)) ctx.out.write(chunk as Buffer);
    return 0;
  }
  // both: whole lines from either stream as they come, each marked with its stream
  const bodies = await Promise.all([open('stdout'), open('stderr')]);
  await Promise.all(
    bodies.map(async (body, i) => {
      const mark = i === 0 ? 'stdout| ' : 'stderr| ';
      let partial = '';
      for await (const chunk of body) {
        const lines = (partial + String(chunk)).split('\n');
        partial = lines.pop()!;
        if (lines.length) ctx.out.write(lines.map((l) => `${mark}${l}\n`).join(''));
      }
      if (partial) ctx.out.write(`${mark}${partial}\n`);
    }),
  );
  return 0;
}

/**
 * Memory (in use/limit), CPU time and processes (running/limit) of a service: "-" where not
 * known (not running, no cgroup, or a nodee 0.1 daemon, whose services carry no usage).
 */
function usageCells(s: Service): [string, string, string] {
  const u: Partial<Usage> = s.usage ?? {};
  const limits = specResources(s.spec);
  return [memoryText(u.memoryBytes ?? null, limits.memoryMB), cpuText(u.cpuSeconds ?? null), pidsText(u.pids ?? null, limits.pids)];
}

/** yes/no; "-" for a service of a nodee 0.1 daemon, which has no readiness. */
function readyCell(s: Service): string {
  return s.ready === undefined ? '-' : s.ready ? 'yes' : 'no';
}

function words(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function oneCoordinate(positional: string[]): string {
  if (positional.length !== 1) throw new UsageError('expected one coordinate');
  return positional[0]!;
}

function printService(s: Service, ctx: CliContext): void {
  if (ctx.json) ctx.out.write(JSON.stringify(s, null, 2) + '\n');
  else ctx.out.write(`${s.coordinate} ${s.state}${s.pid ? ` pid ${s.pid}` : ''}\n`);
}
