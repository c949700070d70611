import type { Artifact } from '../contract/index.js';
import { UsageError, parseArgs, stringOption } from './args.js';
import type { CliContext } from './context.js';
import { table } from './table.js';

export const USAGE = `usage: nodee artifact list
       nodee artifact install GROUP:ARTIFACT:VERSION [--from URL] [--sha256 HEX]
       nodee artifact remove GROUP:ARTIFACT:VERSION

install downloads from the configured repositories, or from --from URL (--url is the daemon,
as for every command); --sha256 pins the archive's checksum.
`;

const POLL_MS = 200;
const BAR_WIDTH = 30;

/** `nodee artifact …`: a thin client of /v1/artifacts. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'list':
    case 'ls':
      return list(rest, ctx);
    case 'install':
      return install(rest, ctx);
    case 'remove':
    case 'rm':
      return remove(rest, ctx);
    default:
      throw new UsageError(verb ? `unknown artifact command "${verb}"` : 'missing artifact command');
  }
}

function apiPath(id: string | undefined): string {
  const parts = (id ?? '').split(':');
  if (!id || parts.length !== 3 || parts.some((p) => p === '')) throw new UsageError(`expected an artifact id GROUP:ARTIFACT:VERSION, got "${id ?? ''}"`);
  return '/v1/artifacts/' + parts.map(encodeURIComponent).join('/');
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

async function list(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, {});
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const { artifacts } = await ctx.api.request<{ artifacts: Artifact[] }>('GET', '/v1/artifacts');
  if (ctx.json) {
    ctx.out.write(JSON.stringify({ artifacts }, null, 2) + '\n');
    return 0;
  }
  ctx.out.write(table([['ID', 'SIZE', 'FILES', 'INSTALLED', 'SHA256'], ...artifacts.map((x) => [x.id, formatBytes(x.sizeBytes), String(x.fileCount), x.installedAt ?? '-', x.sha256 ? x.sha256.slice(0, 12) : '-'])]));
  return 0;
}

function bar(p: Artifact['progress']): string {
  if (p.totalBytes === null || p.totalBytes === 0) return `downloading ${formatBytes(p.bytes)}`;
  if (p.bytes >= p.totalBytes) return `unpacking ${formatBytes(p.totalBytes)}`;
  const filled = Math.round((p.bytes / p.totalBytes) * BAR_WIDTH);
  const pct = Math.floor((p.bytes / p.totalBytes) * 100);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(pct).padStart(3)}% ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}`;
}

/**
 * PUT waits until the install is done, so progress comes from polling GET beside it.
 * The bar goes to stderr and only on a terminal: piped output gets the final line alone.
 */
async function install(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, { values: ['from', 'sha256'] });
  if (a.positional.length !== 1) throw new UsageError('install takes exactly one artifact id');
  const id = a.positional[0] as string;
  const p = apiPath(id);
  const body: { url?: string; sha256?: string } = {};
  const url = stringOption(a, 'from');
  const sha256 = stringOption(a, 'sha256');
  if (url !== undefined) body.url = url;
  if (sha256 !== undefined) body.sha256 = sha256;

  const tty = (ctx.err as { isTTY?: boolean }).isTTY === true && !ctx.json;
  const started = Date.now();
  let settled = false;
  let wake: () => void = () => undefined;
  const put = ctx.api.request<Artifact>('PUT', p, Object.keys(body).length > 0 ? body : undefined);
  const finished = put.then(
    () => undefined,
    () => undefined,
  ).finally(() => {
    settled = true;
    wake();
  });
  let drawn = false;
  const poller = (async () => {
    if (!tty) return;
    while (!settled) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS).unref();
      });
      if (settled) break;
      const now = await ctx.api.request<Artifact>('GET', p).catch(() => undefined);
      if (settled || !now || now.state !== 'installing') continue;
      ctx.err.write(`\r\x1b[2K${id} ${bar(now.progress)}`);
      drawn = true;
    }
  })();
  try {
    const artifact = await put;
    if (ctx.json) ctx.out.write(JSON.stringify(artifact, null, 2) + '\n');
    else {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      ctx.out.write(`installed ${artifact.id}: ${artifact.fileCount} files, ${formatBytes(artifact.sizeBytes)} in ${artifact.path} (${secs} s)\n`);
    }
    return 0;
  } finally {
    await finished;
    await poller;
    if (drawn) ctx.err.write('\r\x1b[2K');
  }
}

async function remove(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, {});
  if (a.positional.length !== 1) throw new UsageError('remove takes exactly one artifact id');
  const id = a.positional[0] as string;
  await ctx.api.request<void>('DELETE', apiPath(id));
  if (!ctx.json) ctx.out.write(`removed ${id}\n`);
  return 0;
}
