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

export function parseArgs(argv: string[], spec: { values?: string[]; flags?: string[]; aliases?: Record<string, string> }): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const out: ParsedArgs = { positional: [], options: {}, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      out.positional.push(word);
      continue;
    }
    let name = word.replace(/^--?/, '');
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = spec.aliases?.[name] ?? name;
    if (values.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      out.options[name] = value;
    } else if (flags.has(name)) {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      out.options[name] = true;
    } else {
      throw new UsageError(`unknown option ${word}`);
    }
  }
  return out;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}
