/**
 * A small argv parser: `--name value`, `--name=value`, boolean `--flag`, `-f`, and `--`
 * ending options. Each command declares which options take a value, so a typo is an
 * error rather than a silently ignored word.
 */
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | true>;
  /** Everything after a bare `--`. */
  rest: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  values?: string[];
  flags?: string[];
  aliases?: Record<string, string>;
}

/**
 * The options every command accepts, before or after the command words (`nodee --json
 * status`, `nodee status --json`): the one list of them.
 */
export const GLOBAL_OPTIONS = { values: ['url', 'token', 'ca'], flags: ['json', 'help'], aliases: { h: 'help' } } satisfies OptionSpec;

export function parseArgs(argv: string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: {}, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (!isOption(word)) {
      out.positional.push(word);
      continue;
    }
    const used = takeOption(argv, i, spec, out.options);
    if (used === 0) throw new UsageError(`unknown option ${word}`);
    i += used - 1;
  }
  return out;
}

/**
 * Takes the global options out of `argv` wherever they stand (up to a bare `--`, after which
 * words belong to a service's command line). `words` keeps everything else in order, with
 * `commandIndex` the position in `argv` of the first of them that is not an option.
 */
export function takeGlobals(argv: string[]): { globals: ParsedArgs; words: string[]; commandIndex: number } {
  const globals: ParsedArgs = { positional: [], options: {}, rest: [] };
  const words: string[] = [];
  let commandIndex = -1;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      words.push(...argv.slice(i));
      break;
    }
    const used = isOption(word) ? takeOption(argv, i, GLOBAL_OPTIONS, globals.options) : 0;
    if (used > 0) {
      i += used - 1;
      continue;
    }
    if (commandIndex < 0 && !isOption(word)) commandIndex = i;
    words.push(word);
  }
  return { globals, words, commandIndex };
}

function isOption(word: string): boolean {
  return word.startsWith('-') && word !== '-';
}

/**
 * Reads the option at argv[i] into `into` when `spec` knows it; returns how many words it
 * used (0: not one of spec's). A value option without its value is a usage error.
 */
function takeOption(argv: string[], i: number, spec: OptionSpec, into: ParsedArgs['options']): number {
  const word = argv[i] as string;
  let name = word.replace(/^--?/, '');
  let inline: string | undefined;
  const eq = name.indexOf('=');
  if (eq >= 0) {
    inline = name.slice(eq + 1);
    name = name.slice(0, eq);
  }
  name = spec.aliases?.[name] ?? name;
  if (spec.values?.includes(name)) {
    const value = inline ?? argv[i + 1];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    into[name] = value;
    return inline === undefined ? 2 : 1;
  }
  if (spec.flags?.includes(name)) {
    if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
    into[name] = true;
    return 1;
  }
  return 0;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}
