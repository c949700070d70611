import { closeSync, constants, openSync } from 'node:fs';
import path from 'node:path';

export type LogStream = 'stdout' | 'stderr';

export function logFile(runtimeDir: string, stream: LogStream): string {
  return path.join(runtimeDir, 'logs', `${stream}.log`);
}

/**
 * Opens stdout.log and stderr.log with O_APPEND for a child to inherit. The service writes
 * to the files directly, never through a pipe to the daemon: it keeps running and logging
 * while the daemon restarts or is killed, and a copytruncate rotation makes its next write
 * land at the new end of the file. The caller closes the fds once the child has them.
 */
export function openLogFds(runtimeDir: string): [number, number] {
  // O_NOFOLLOW: never open through a link the service planted
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
  const out = openSync(logFile(runtimeDir, 'stdout'), flags, 0o640);
  try {
    return [out, openSync(logFile(runtimeDir, 'stderr'), flags, 0o640)];
  } catch (err) {
    closeSync(out);
    throw err;
  }
}
