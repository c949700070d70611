import os from 'node:os';
import { statfs } from 'node:fs/promises';
import type { MachineInfo, NodeResources } from '../contract/index.js';
import type { Config } from '../config/index.js';

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

/**
 * What the node offers to reservations: the config's `capacity`, and for a key it leaves out
 * what the machine has (memory less 10 % for the OS and the daemon, every core, the disk free
 * under the prefix now).
 */
export async function resolveCapacity(given: Config['capacity'], prefix: string): Promise<NodeResources> {
  const machine = await readMachine(prefix);
  return {
    memoryMB: given.memoryMB ?? Math.floor((machine.memoryBytes * 0.9) / 1024 ** 2),
    cpu: given.cpu ?? machine.cpus,
    diskMB: given.diskMB ?? Math.floor(machine.diskFreeBytes / 1024 ** 2),
  };
}
