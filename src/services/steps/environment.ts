import { substitute } from '../template.js';
import type { ServiceSpec } from '../spec.js';
import type { RunAs } from './user.js';

/**
 * A service's environment: a small clean base (never the daemon's own environment, which
 * may hold NODEE_TOKEN or cloud credentials), the NODEE_* variables, then the spec's `env`,
 * whose values may refer to the variables before them.
 */
export function serviceEnvironment(o: {
  spec: ServiceSpec;
  runtimeDir: string;
  softwareDir: string;
  ports: Record<string, number>;
  user: RunAs | undefined;
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: o.user?.home ?? o.runtimeDir,
    ...(o.user ? { USER: o.user.name, LOGNAME: o.user.name } : {}),
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
    NODEE_COORDINATE: o.spec.coordinate,
    NODEE_RUNTIME_DIR: o.runtimeDir,
    NODEE_SOFTWARE_DIR: o.softwareDir,
  };
  for (const [name, port] of Object.entries(o.ports)) env[`NODEE_PORT_${name.toUpperCase()}`] = String(port);
  for (const [name, value] of Object.entries(o.spec.env)) env[name] = substitute(value, env, `env.${name}`);
  return env;
}

/** command + args with `${VAR}` substituted in every word. */
export function commandLine(spec: ServiceSpec, env: Record<string, string>): string[] {
  return [
    ...spec.command.map((w, i) => substitute(w, env, `command[${i}]`)),
    ...spec.args.map((w, i) => substitute(w, env, `args[${i}]`)),
  ];
}
