import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NodeeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { substitute } from '../template.js';
import type { ServiceSpec } from '../spec.js';
import { isWithin } from './command.js';
import { download } from './download.js';

/** Checks that every `files` entry stays inside the artifact and the runtime dir (400 at create). */
export function checkFilePaths(files: ServiceSpec['files'], softwareDir: string): void {
  files.forEach((f, i) => {
    const to = path.resolve('/r', f.to);
    if (path.isAbsolute(f.to) || !isWithin('/r', to) || to === '/r') {
      throw new NodeeError('BAD_REQUEST', `files[${i}].to: "${f.to}" must be a relative path inside the runtime directory`);
    }
    if (f.from !== undefined && (path.isAbsolute(f.from) || !isWithin(softwareDir, path.resolve(softwareDir, f.from)))) {
      throw new NodeeError('BAD_REQUEST', `files[${i}].from: "${f.from}" must be a relative path inside the artifact`);
    }
  });
}

/**
 * Copies `files` into the runtime dir before the first start, substituting `${VAR}` when
 * `template` is set. Each file is written to a temp name and renamed, so a crash never
 * leaves half a config file; repeating the step rewrites the same content.
 */
export async function copyFiles(o: {
  files: ServiceSpec['files'];
  softwareDir: string;
  runtimeDir: string;
  env: Record<string, string>;
  /** Largest `url` download (limits.artifactMaxBytes). */
  maxBytes: number;
  log: Logger;
}): Promise<void> {
  // each resolved once, at the point it is first needed (after the first mkdir, at the first `from`)
  let realRuntimeDir: string | undefined;
  let realSoftwareDir: string | undefined;
  for (const [i, f] of o.files.entries()) {
    const to = path.resolve(o.runtimeDir, f.to);
    await fs.mkdir(path.dirname(to), { recursive: true });
    // a runtime dir kept from an earlier service may hold links: never write through one out of it
    realRuntimeDir ??= await fs.realpath(o.runtimeDir);
    if (!isWithin(realRuntimeDir, await fs.realpath(path.dirname(to)))) {
      throw new NodeeError('BAD_REQUEST', `files[${i}].to: "${f.to}" leads out of the runtime directory through a link`);
    }
    const tmp = `${to}.nodee-tmp`;
    let mode = 0o644;
    if (f.from !== undefined) {
      const from = path.resolve(o.softwareDir, f.from);
      const real = await fs.realpath(from).catch(() => {
        throw new NodeeError('BAD_REQUEST', `files[${i}].from: "${f.from}" does not exist in the artifact`);
      });
      realSoftwareDir ??= await fs.realpath(o.softwareDir);
      if (!isWithin(realSoftwareDir, real)) {
        throw new NodeeError('BAD_REQUEST', `files[${i}].from: "${f.from}" is a link that leaves the artifact`);
      }
      mode = (await fs.stat(real)).mode & 0o755;
      await fs.copyFile(real, tmp);
    } else {
      await download(f.url!, tmp, { maxBytes: o.maxBytes, what: `files[${i}].url`, log: o.log });
    }
    if (f.template) {
      const text = await fs.readFile(tmp, 'utf8');
      await fs.writeFile(tmp, substitute(text, o.env, `files[${i}] (${f.from ?? f.url})`));
    }
    await fs.chmod(tmp, mode | 0o200);
    await fs.rename(tmp, to);
  }
}
