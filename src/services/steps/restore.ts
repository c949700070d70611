import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removeTree, unpack } from '../../artifacts/index.js';
import type { Logger } from '../../lib/log.js';
import type { PrepareJob } from './prepare.js';
import { download } from './download.js';

/** Names the restore works under inside the runtime dir; isPristine() does not count them. */
export const RESTORE_STAGING = '.nodee-restore';

/**
 * Unpacks the `restore` ZIP into the (pristine) runtime dir, through the artifact store's
 * unpacker so the same checks apply (no `..`, no absolute paths, no links out, bombs
 * refused). Runs as the runtime dir's owner (prepare.ts), so it stages inside the runtime
 * dir: a failed restore leaves it as empty as it was, and repeating the step starts over.
 */
export async function restoreState(job: PrepareJob, log: Logger): Promise<void> {
  const { runtimeDir, limits } = job;
  const restore = job.restore!;
  const staging = path.join(runtimeDir, RESTORE_STAGING);
  const archive = `${staging}.zip`;
  await fs.rm(staging, { recursive: true, force: true });
  try {
    await download(restore.url, archive, { sha256: restore.sha256, maxBytes: limits.artifactMaxBytes, timeouts: job.downloadTimeouts, what: 'restore.url', log });
    await unpack(archive, staging, { maxBytes: limits.artifactMaxBytes, maxFiles: limits.artifactMaxFiles });
    // the unpacker writes read-only trees (artifacts are immutable); state is the service's to change
    await makeWritable(staging);
    for (const name of await fs.readdir(staging)) {
      await fs.rm(path.join(runtimeDir, name), { recursive: true, force: true });
      await fs.rename(path.join(staging, name), path.join(runtimeDir, name));
    }
  } finally {
    await fs.rm(archive, { force: true });
    await removeTree(staging);
  }
}

async function makeWritable(dir: string): Promise<void> {
  const st = await fs.lstat(dir);
  if (st.isSymbolicLink()) return;
  await fs.chmod(dir, st.mode | 0o200);
  if (!st.isDirectory()) return;
  for (const name of await fs.readdir(dir)) await makeWritable(path.join(dir, name));
}
