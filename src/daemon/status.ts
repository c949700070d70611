import os from 'node:os';
import { statfs } from 'node:fs/promises';

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  freeMemoryBytes: number;
  loadavg: number[];
  diskFreeBytes: number;
}

export type ZookeeperState = 'connected' | 'connecting' | 'disconnected' | 'standalone';

/** GET /v1/status (contract: "NodeStatus"). */
export interface NodeStatus {
  instance: string;
  hostname: string;
  version: string;
  pid: number;
  state: 'active' | 'draining';
  startedAt: string;
  console: { url: string; port: number };
  zookeeper: { state: ZookeeperState; path: string | null; conflict?: string };
  machine: MachineInfo;
  counts: { artifacts: number; services: number; byState: Record<string, number> };
}

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
