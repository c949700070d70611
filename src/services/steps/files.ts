import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { NodeeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { substitute } from '../template.js';
import type { ServiceSpec } from '../spec.js';
import { isWithin } from './command.js';
import { download } from './download.js';
import type { PrepareJob } from './prepare.js';

/** Rendered files may hold secrets: the service's user and group read them, nobody else. */
const FILE_MODE = 0o640;
const EXEC_MODE = 0o750;
/** A new file, never an existing name or a link someone put there first. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

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
 * `template` is set. Runs as the runtime dir's owner (prepare.ts). Each file is written
 * to a fresh temp name (O_EXCL, O_NOFOLLOW) and renamed over `to`, so a crash never leaves
 * half a config file and a link planted at the temp name is never written through;
 * repeating the step rewrites the same content.
 */
export async function copyFiles(job: PrepareJob, log: Logger): Promise<void> {
  // each resolved once, at the point it is first needed (after the first mkdir, at the first `from`)
  let realRuntimeDir: string | undefined;
  let realSoftwareDir: string | undefined;
  for (const [i, f] of job.files.entries()) {
    const to = path.resolve(job.runtimeDir, f.to);
    await fs.mkdir(path.dirname(to), { recursive: true, mode: 0o750 });
    // a runtime dir kept from an earlier service may hold links: never write through one out of it
    realRuntimeDir ??= await fs.realpath(job.runtimeDir);
    if (!isWithin(realRuntimeDir, await fs.realpath(path.dirname(to)))) {
      throw new NodeeError('BAD_REQUEST', `files[${i}].to: "${f.to}" leads out of the runtime directory through a link`);
    }
    const what = `files[${i}] (${f.from ?? f.url})`;
    let content: Buffer;
    let executable = false;
    if (f.from !== undefined) {
      const from = path.resolve(job.softwareDir, f.from);
      const real = await fs.realpath(from).catch(() => {
        throw new NodeeError('BAD_REQUEST', `files[${i}].from: "${f.from}" does not exist in the artifact`);
      });
      realSoftwareDir ??= await fs.realpath(job.softwareDir);
      if (!isWithin(realSoftwareDir, real)) {
        throw new NodeeError('BAD_REQUEST', `files[${i}].from: "${f.from}" is a link that leaves the artifact`);
      }
      executable = ((await fs.stat(real)).mode & 0o111) !== 0;
      content = await fs.readFile(real);
    } else {
      content = await fetchFile(f.url!, path.dirname(to), job, `files[${i}].url`, log);
    }
    if (f.template) content = Buffer.from(substitute(content.toString('utf8'), job.env, what));
    await writeNew(to, content, executable ? EXEC_MODE : FILE_MODE);
  }
}

/** `files[].url` through a temp file of our own making beside the target, then read. */
async function fetchFile(url: string, dir: string, job: PrepareJob, what: string, log: Logger): Promise<Buffer> {
  const tmp = path.join(dir, `.nodee-${randomBytes(6).toString('hex')}.download`);
  await (await fs.open(tmp, CREATE_FLAGS, FILE_MODE)).close();
  try {
    await download(url, tmp, { maxBytes: job.limits.artifactMaxBytes, timeouts: job.downloadTimeouts, what, log });
    return await fs.readFile(tmp);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function writeNew(to: string, content: Buffer, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(to), `.${path.basename(to)}.${randomBytes(6).toString('hex')}.nodee-tmp`);
  const fh = await fs.open(tmp, CREATE_FLAGS, mode);
  let renamed = false;
  try {
    try {
      await fh.writeFile(content);
      await fh.chmod(mode); // the umask may have taken bits the mode asked for
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, to);
    renamed = true;
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true });
  }
}
