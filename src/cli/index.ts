import { ApiClient, ApiError } from './api-client.js';
import { UsageError, parseArgs, stringOption } from './args.js';
import type { CliContext } from './context.js';
import { runDaemon } from './daemon.js';
import * as artifact from './artifact.js';
import * as cluster from './cluster.js';
import * as service from './service.js';
import * as status from './status.js';

const USAGE = `usage: nodee [--url URL] [--token TOKEN] [--json] <command>

commands:
  status                                  the node: state, ZooKeeper, machine, counts
  artifact list|install|remove ...        software artifacts (install shows progress)
  service list|start|stop|drain|restart|remove|logs ...
  cluster ls|watch                        every node, read from ZooKeeper
  daemon --config FILE                    run the daemon in the foreground

--url defaults to $NODEE_URL or http://127.0.0.1:7070; --token to $NODEE_TOKEN.
`;

/** Global options that take a value: the word after one is not the command. */
const GLOBAL_VALUES = ['url', 'token', 'ca'];

const groups: Record<string, (args: string[], ctx: CliContext) => Promise<number>> = {
  status: status.run,
  artifact: artifact.run,
  service: service.run,
  cluster: cluster.run,
};

/** Parses global options, dispatches to a command, and maps failures to exit statuses. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const commandAt = argv.findIndex((w, i) => !w.startsWith('-') && !GLOBAL_VALUES.includes(argv[i - 1]?.replace(/^--/, '') ?? ''));
  const globals = commandAt < 0 ? argv : argv.slice(0, commandAt);
  const command = commandAt < 0 ? undefined : argv[commandAt];
  const rest = commandAt < 0 ? [] : argv.slice(commandAt + 1);

  if (command === 'daemon') return runDaemon(rest, err);
  let api: ApiClient | undefined;
  try {
    const g = parseArgs(globals, { values: GLOBAL_VALUES, flags: ['json', 'help'], aliases: { h: 'help' } });
    if (g.options.help || command === 'help' || command === undefined) {
      (command === undefined && !g.options.help ? err : out).write(USAGE);
      return command === undefined && !g.options.help ? 2 : 0;
    }
    const run = groups[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    api = new ApiClient({
      url: stringOption(g, 'url') ?? process.env.NODEE_URL ?? 'http://127.0.0.1:7070',
      token: stringOption(g, 'token') ?? process.env.NODEE_TOKEN,
      caFile: stringOption(g, 'ca'),
    });
    return await run(rest, { api, out, err, json: g.options.json === true });
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`nodee: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ApiError) {
      err.write(`nodee: ${e.message}${e.code.startsWith('HTTP_') || e.code === 'UNREACHABLE' ? '' : ` (${e.code})`}\n`);
      return 1;
    }
    err.write(`nodee: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await api?.close();
  }
}
