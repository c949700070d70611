import { NodeeError } from '../lib/errors.js';

const VARIABLE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Substitutes `${VAR}` from `env`; `$${` stands for a literal `${`. An unknown variable is
 * an error rather than an empty string: a typo in a port name must not start a service
 * listening on the wrong port. `where` names the field in the error.
 */
export function substitute(text: string, env: Record<string, string>, where: string): string {
  return text.replace(VARIABLE, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    const value = env[name];
    if (value === undefined) throw new NodeeError('BAD_REQUEST', `${where}: \${${name}} is not defined in the service environment`);
    return value;
  });
}
