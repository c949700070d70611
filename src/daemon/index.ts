export { Daemon, capabilityRouters } from './daemon.js';
export type { NodeStatus, MachineInfo, ZookeeperState } from './status.js';
export { version } from './version.js';
