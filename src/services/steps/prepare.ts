import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/log.js';
import type { ServiceSpec } from '../spec.js';
import { copyFiles } from './files.js';
import { restoreState } from './restore.js';
import { chownTree, isPristine } from './runtime-dir.js';
import type { RunAs } from './user.js';

/**
 * What happens once, before a service's first start: `files`, then `restore` when the
 * runtime dir is still empty, then the user gets ownership of what was written. Safe to
 * repeat after a failure (files are renamed into place, restore unpacks via staging).
 */
export async function prepareFirstStart(o: {
  spec: ServiceSpec;
  softwareDir: string;
  runtimeDir: string;
  env: Record<string, string>;
  user: RunAs | undefined;
  limits: Config['limits'];
  log: Logger;
}): Promise<void> {
  const pristine = await isPristine(o.runtimeDir);
  await copyFiles({ files: o.spec.files, softwareDir: o.softwareDir, runtimeDir: o.runtimeDir, env: o.env, maxBytes: o.limits.artifactMaxBytes, log: o.log });
  if (o.spec.restore) {
    if (pristine) await restoreState(o.spec.restore, o.runtimeDir, o.limits, o.log);
    else o.log.info({ coordinate: o.spec.coordinate }, 'runtime dir is not empty: restore skipped');
  }
  if (o.user) await chownTree(o.runtimeDir, o.user);
}
