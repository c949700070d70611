import { ApiClient, ApiError } from './api-client.js';
import { UsageError, stringOption, takeGlobals } from './args.js';
import { USAGE, findCommand, type Command } from './commands.js';
import { runDaemon } from './daemon.js';

/**
 * Takes the global options from anywhere in argv, dispatches `nodee <command> ...`, and maps
 * failures to exit statuses: 1 for a failure (the API's message), 2 for a usage error (the
 * message and the usage of the command concerned, or nodee's when there is none).
 */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let command: Command | undefined;
  let api: ApiClient | undefined;
  try {
    const { globals, words, commandIndex } = takeGlobals(argv);
    const [name, ...rest] = words;
    const help = globals.options.help === true;
    if (name === undefined) {
      (help ? out : err).write(USAGE);
      return help ? 0 : 2;
    }
    if (name.startsWith('-')) throw new UsageError(`unknown option ${name}`);
    command = findCommand(name);
    if (!command) throw new UsageError(`unknown command "${name}"`);
    if (help) {
      out.write(command.usage);
      return 0;
    }
    if (name === 'help') {
      const topic = rest.find((w) => !w.startsWith('-'));
      const about = topic === undefined ? undefined : findCommand(topic);
      if (topic !== undefined && !about) throw new UsageError(`unknown command "${topic}"`);
      out.write(about?.usage ?? USAGE);
      return 0;
    }
    // the daemon parses its own words: global options mean nothing to it
    if (!command.run) return await runDaemon(argv.slice(commandIndex + 1), err);
    api = new ApiClient({
      url: stringOption(globals, 'url') ?? process.env.NODEE_URL ?? 'http://127.0.0.1:7070',
      token: stringOption(globals, 'token') ?? process.env.NODEE_TOKEN,
      caFile: stringOption(globals, 'ca'),
    });
    return await command.run(rest, { api, out, err, json: globals.options.json === true });
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`nodee${command ? ' ' + command.name : ''}: ${e.message}\n\n${command?.usage ?? USAGE}`);
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
