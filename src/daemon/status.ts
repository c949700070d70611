import os from 'node:os';
import { statfs } from 'node:fs/promises';
import type { MachineInfo } from '../contract/index.js';

/** Machine figures read from the OS; disk is the filesystem that holds the prefix. */
export async function readMachine(prefix: string): Promise<MachineInfo> {
  let diskFreeBytes = 0;
  try {
    const s = await statfs(prefix);
    diskFreeBytes = s.bavail * s.bsize;
  } catch {
    // the prefix may not exist yet on a first start; 0 says "unknown" without failing status
  }
  return {
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    loadavg: os.loadavg(),
    diskFreeBytes,
  };
}
