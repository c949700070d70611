export { Daemon, capabilityRouters } from './daemon.js';
export { version } from './version.js';
