import { NodeeError } from '../lib/errors.js';
import { MAX_COUNT, jobNameProblem, type JobEntry } from '../scheduler/index.js';
import { zkCode } from '../registry/index.js';
import { UsageError, parseArgs, stringOption, type ParsedArgs } from './args.js';
import { TARGET_OPTIONS, clusterTarget, openCell, type Cell, type ClusterTarget } from './cluster-target.js';
import type { CliContext } from './context.js';
import { readSpec } from './service.js';
import { table } from './table.js';

/**
 * `nodee cluster run|jobs|job|scale|stop|endpoints` (contract: "Fleet scheduling over
 * ZooKeeper"): the operator's side of jobs, straight on ZooKeeper like `cluster ls`. The
 * writes are the scheduler's JobWriter's and the reads its ClusterView's; this file parses
 * words and prints.
 */

export const JOB_VERBS = ['run', 'jobs', 'job', 'scale', 'stop', 'endpoints'];

export const JOB_USAGE = `  run FILE [--wait MS]                   create or update a job (YAML or JSON), then show where
                                         its instances go (waits for the scheduler, default 10000)
  jobs                                   every job: count, version, running, ready, pending
  job NAME                               one job: each instance's node, state and readiness
  scale NAME N                           set a job's count
  stop NAME [--wait MS]                  count 0, wait for its instances to go (default 30000),
                                         then delete the job
  endpoints NAME [--port PORT]           host:port of every running, ready instance, one a line
                                         (PORT: one of the job's ports; default its first)
  run, scale and stop write jobs/: with a digest ACL there, --digest-file FILE holds its
  "user:password" (default: the config's zookeeper.digestFile)
`;

/** How long run waits for the leader's status, and stop for the instances to go, unless --wait says. */
const WAIT_MS = { run: 10_000, stop: 30_000 };

export async function runJobVerb(verb: string, args: string[], ctx: CliContext): Promise<number> {
  const own = { endpoints: ['port'], run: ['wait'], stop: ['wait'] }[verb] ?? [];
  const a = parseArgs(args, { values: [...TARGET_OPTIONS, ...own] });
  const words = a.positional;
  const arity: Record<string, string[]> = { run: ['FILE'], jobs: [], job: ['NAME'], scale: ['NAME', 'N'], stop: ['NAME'], endpoints: ['NAME'] };
  const wanted = arity[verb] ?? [];
  if (words.length < wanted.length) throw new UsageError(`cluster ${verb} needs ${wanted.slice(words.length).join(' ')}`);
  if (words.length > wanted.length) throw new UsageError(`unexpected argument ${words[wanted.length]}`);
  if (verb !== 'run' && verb !== 'jobs') {
    const problem = jobNameProblem(words[0]!);
    if (problem) throw new UsageError(problem);
  }
  // read the file and check the count before connecting: a typo costs no round trip
  const input = verb === 'run' ? readSpec(words[0]!) : undefined;
  const count = verb === 'scale' ? countOf(words[1]!) : 0;
  const waitMs = waitOf(a, verb === 'stop' ? WAIT_MS.stop : WAIT_MS.run);
  const target = clusterTarget(a);
  const cell = await openCell(target, { write: verb === 'run' || verb === 'scale' || verb === 'stop' });
  try {
    switch (verb) {
      case 'run':
        return await run(cell, input, target, waitMs, ctx);
      case 'jobs':
        return await jobs(cell, ctx);
      case 'job':
        return await job(cell, words[0]!, ctx);
      case 'scale':
        return await scale(cell, words[0]!, count, target, ctx);
      case 'stop':
        return await stop(cell, words[0]!, target, waitMs, ctx);
      default:
        return await endpoints(cell, words[0]!, a, ctx);
    }
  } finally {
    await cell.close();
  }
}

async function run(cell: Cell, input: unknown, target: ClusterTarget, waitMs: number, ctx: CliContext): Promise<number> {
  const { job, change } = await writing(target, cell, () => cell.writer.runJob(input));
  if (!ctx.json) ctx.out.write(`${job.name}: ${change === 'unchanged' ? 'unchanged at' : change} version ${job.version}\n`);
  // where the instances go is the leader's to say: wait for its status of this version
  const entry = waitMs > 0 ? await cell.view.until(job.name, (e) => (e?.status?.version ?? 0) >= job.version, waitMs) : undefined;
  if (ctx.json) {
    ctx.out.write(JSON.stringify({ change, job, status: entry?.status ?? null }, null, 2) + '\n');
  } else if (entry) {
    ctx.out.write(instancesText(entry));
  }
  if (!entry && waitMs > 0) ctx.err.write(`nodee cluster: no scheduler status of version ${job.version} within ${waitMs} ms; is a daemon with the scheduler running? (nodee cluster job ${job.name} shows it later)\n`);
  return 0;
}

async function jobs(cell: Cell, ctx: CliContext): Promise<number> {
  const entries = await cell.view.jobs();
  if (ctx.json) {
    ctx.out.write(JSON.stringify(entries, null, 2) + '\n');
    return 0;
  }
  const rows = [['NAME', 'TYPE', 'COUNT', 'VERSION', 'RUNNING', 'READY', 'PENDING']];
  for (const e of entries) {
    const j = e.job;
    const s = e.status;
    const row = [e.name, j?.type ?? '?', j ? String(j.count) : '-', j ? String(j.version) : '-'];
    row.push(...(s ? [String(s.counts.running ?? 0), String(s.instances.filter((i) => i.ready).length), String(s.pending.length)] : ['-', '-', '-']));
    if (e.error) row.push(`(unreadable ${e.error})`);
    rows.push(row);
  }
  ctx.out.write(table(rows));
  return 0;
}

async function job(cell: Cell, name: string, ctx: CliContext): Promise<number> {
  const entry = await cell.view.job(name);
  if (!entry) throw new NodeeError('JOB_NOT_FOUND', `no job ${name}`);
  if (ctx.json) {
    ctx.out.write(JSON.stringify(entry, null, 2) + '\n');
    return entry.job ? 0 : 1;
  }
  const j = entry.job;
  const s = entry.status;
  const rows: string[][] = [['name', entry.name]];
  if (j) {
    rows.push(['type', j.type], ['count', String(j.count)], ['version', String(j.version)], ['artifact', String(j.spec.artifact)]);
    if (j.maxPerNode !== undefined) rows.push(['maxPerNode', String(j.maxPerNode)]);
    const labels = Object.entries(j.constraints?.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    if (labels.length > 0) rows.push(['constraints', labels.join(',')]);
  }
  const behind = j && s && s.version < j.version ? ` (the scheduler has not seen version ${j.version} yet)` : '';
  rows.push(['status', s ? `version ${s.version} at ${s.updatedAt}${behind}` : 'none yet (no scheduler leader has seen this job)']);
  if (entry.error) rows.push(['unreadable', entry.error]);
  ctx.out.write(table(rows));
  if (s) ctx.out.write('\n' + instancesText(entry));
  return j ? 0 : 1;
}

async function scale(cell: Cell, name: string, count: number, target: ClusterTarget, ctx: CliContext): Promise<number> {
  const r = await writing(target, cell, () => cell.writer.scaleJob(name, count));
  if (ctx.json) ctx.out.write(JSON.stringify(r.job, null, 2) + '\n');
  else if (r.changed) ctx.out.write(`${name}: count ${r.from} → ${count}, version ${r.job.version}\n`);
  else ctx.out.write(`${name}: count ${count} already, version ${r.job.version}\n`);
  return 0;
}

async function stop(cell: Cell, name: string, target: ClusterTarget, waitMs: number, ctx: CliContext): Promise<number> {
  const r = await writing(target, cell, () => cell.writer.stopJob(name, { waitMs }));
  if (ctx.json) {
    ctx.out.write(JSON.stringify({ ...r, deleted: true }, null, 2) + '\n');
    return 0;
  }
  const how = r.version === undefined ? 'unreadable, so removed as it was' : r.drained ? `count 0 at version ${r.version}, every instance gone` : `count 0 at version ${r.version}; not every instance was gone within ${waitMs} ms (the scheduler removes the rest)`;
  ctx.out.write(`${name}: ${how}; job deleted\n`);
  return 0;
}

async function endpoints(cell: Cell, name: string, a: ParsedArgs, ctx: CliContext): Promise<number> {
  const list = await cell.view.endpoints(name, stringOption(a, 'port'));
  ctx.out.write(ctx.json ? JSON.stringify(list, null, 2) + '\n' : list.map((e) => `${e.address}\n`).join(''));
  return 0;
}

/** Where each instance is: a row each, then why each pending one has no node. */
function instancesText(entry: JobEntry): string {
  const s = entry.status!;
  const rows = [['COORDINATE', 'NODE', 'STATE', 'READY']];
  for (const i of s.instances) rows.push([i.coordinate, i.node ?? '-', i.state, i.ready ? 'yes' : 'no']);
  // one line each, cleaned as table cells are: a reason is the leader's words about nodes' data
  const pending = s.pending.map((p) => table([[`${p.coordinate} pending: ${p.reason}`]])).join('');
  return table(rows) + (pending ? '\n' + pending : '');
}

/** --wait MS: 0 does not wait at all. */
function waitOf(a: ParsedArgs, fallback: number): number {
  const text = stringOption(a, 'wait');
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError('--wait must be a number of milliseconds');
  return Number(text);
}

function countOf(word: string): number {
  if (!/^\d{1,9}$/.test(word)) throw new UsageError(`N must be a whole number from 0 to ${MAX_COUNT}, not "${word}"`);
  return Number(word);
}

/** Runs a write; ZooKeeper's NO_AUTH becomes what to do about it. */
async function writing<T>(target: ClusterTarget, cell: Cell, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (zkCode(err) !== 'NO_AUTH') throw err;
    const hint = target.digestFile ? `the digest in ${target.digestFile} is not the one it allows` : 'pass --digest-file FILE with its "user:password"';
    throw new Error(`ZooKeeper refused the write (NO_AUTH): ${cell.view.jobsPath} carries a digest ACL; ${hint}`);
  }
}
