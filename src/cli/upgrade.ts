import type { Service } from '../contract/index.js';
import { UsageError, parseArgs, stringOption } from './args.js';
import type { CliContext } from './context.js';

export const UPGRADE_USAGE = `  upgrade COORDINATE ARTIFACT [--timeout SECONDS]
                                         run it on another installed artifact; rolled back
                                         (exit 1, UPGRADE_ROLLED_BACK) if not ready in time (default 60 s)
`;

/** How often the progress is read while the upgrade request is under way. */
const PROGRESS_MS = 250;

/**
 * `nodee service upgrade COORDINATE ARTIFACT`: POST /upgrade, and meanwhile the service as it
 * goes (stopping, starting on the new artifact, waiting for ready, rolled back) on stderr, one
 * line per change, so an operator sees where a slow upgrade is. The answer is the request's.
 */
export async function upgrade(args: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(args, { values: ['timeout'] });
  if (a.positional.length !== 2) throw new UsageError('expected COORDINATE ARTIFACT');
  const [coordinate, artifact] = a.positional as [string, string];
  const timeoutText = stringOption(a, 'timeout');
  const timeoutSeconds = timeoutText === undefined ? 60 : Number(timeoutText);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout is a number of seconds');
  const path = `/v1/services/${encodeURIComponent(coordinate)}`;

  let last = '';
  const began = Date.now();
  const show = (s: Service): void => {
    const line = `${s.artifact} ${s.state}${s.state === 'running' ? (s.ready ? ', ready' : ', not ready yet') : ''}`;
    if (line === last) return;
    last = line;
    ctx.err.write(`${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s  ${line}\n`);
  };
  let done = false;
  const progress = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, PROGRESS_MS));
      // a progress read that fails (the daemon busy, a blip) is just not shown
      if (!done) await ctx.api.request<Service>('GET', path).then(show, () => undefined);
    }
  })();
  try {
    show(await ctx.api.request<Service>('GET', path));
    const service = await ctx.api.request<Service>('POST', `${path}/upgrade`, { artifact, timeoutSeconds });
    show(service);
    if (ctx.json) ctx.out.write(JSON.stringify(service, null, 2) + '\n');
    else ctx.out.write(`${service.coordinate} upgraded to ${service.artifact}, ready\n`);
    return 0;
  } finally {
    done = true;
    await progress;
  }
}
