import { UsageError } from './args.js';
import * as artifact from './artifact.js';
import * as cluster from './cluster.js';
import { SHELLS, completionScript } from './completion.js';
import type { CliContext } from './context.js';
import { USAGE as DAEMON_USAGE } from './daemon.js';
import * as node from './node.js';
import * as service from './service.js';
import * as status from './status.js';

/** One `nodee <name>` command. `daemon` has no `run`: it owns the process (src/cli/daemon.ts). */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The words that may follow the name, for help and completion. */
  verbs: string[];
  /** Its line in nodee's usage; default the name and its verbs. */
  synopsis?: string;
  run?: (args: string[], ctx: CliContext) => Promise<number>;
}

const COMPLETION_USAGE = `usage: nodee completion bash|zsh

Prints a completion script: source <(nodee completion bash), or for zsh
source <(nodee completion zsh).
`;

export const COMMANDS: Command[] = [
  { name: 'status', summary: 'the node: state, ZooKeeper, machine, counts', usage: status.USAGE, verbs: [], run: status.run },
  { name: 'drain', summary: 'refuse new starts and drain every service', usage: node.DRAIN_USAGE, verbs: [], run: (a, c) => node.run('drain', a, c) },
  { name: 'undrain', summary: 'accept new starts again', usage: node.UNDRAIN_USAGE, verbs: [], run: (a, c) => node.run('undrain', a, c) },
  { name: 'artifact', summary: 'software artifacts (install shows progress)', usage: artifact.USAGE, verbs: ['list', 'install', 'remove'], run: artifact.run },
  {
    name: 'service',
    summary: 'services on this node',
    usage: service.USAGE,
    verbs: ['list', 'show', 'start', 'stop', 'restart', 'drain', 'remove', 'logs', 'upgrade'],
    run: service.run,
  },
  { name: 'cluster', summary: 'the fleet and its jobs, straight on ZooKeeper', usage: cluster.USAGE, verbs: cluster.VERBS, run: cluster.run },
  { name: 'daemon', summary: 'run the daemon in the foreground', usage: DAEMON_USAGE, verbs: [], synopsis: 'daemon --config FILE' },
  { name: 'completion', summary: 'print a shell completion script', usage: COMPLETION_USAGE, verbs: SHELLS, run: completion },
  { name: 'help', summary: 'this text, or a command\'s', usage: 'usage: nodee help [COMMAND]\n', verbs: [], synopsis: 'help [COMMAND]' },
];
// help completes command names
(COMMANDS.find((c) => c.name === 'help') as Command).verbs = COMMANDS.map((c) => c.name);

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

const synopses = COMMANDS.map((c) => c.synopsis ?? [c.name, c.verbs.join('|')].join(' ').trim());
const width = Math.max(...synopses.map((s) => s.length)) + 2;

export const USAGE = `usage: nodee <command> [options]

commands:
${COMMANDS.map((c, i) => `  ${(synopses[i] as string).padEnd(width)}${c.summary}`).join('\n')}

global options, before or after the command words:
  --url URL       the daemon (default $NODEE_URL, else http://127.0.0.1:7070)
  --token TOKEN   its API token (default $NODEE_TOKEN)
  --ca FILE       a CA certificate (PEM) to trust for an https daemon
  --json          print the API's JSON instead of tables
  -h, --help      show the usage of nodee or of a command

Exit status: 0 done, 1 failed (with the daemon's message), 2 usage error.
`;

async function completion(args: string[], ctx: CliContext): Promise<number> {
  const [shell, ...extra] = args;
  if (!shell || !SHELLS.includes(shell) || extra.length > 0) throw new UsageError(shell ? `no completion for "${[shell, ...extra].join(' ')}"` : 'which shell?');
  ctx.out.write(completionScript(shell, COMMANDS));
  return 0;
}
