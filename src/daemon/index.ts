export { Daemon, capabilityRouters } from './daemon.js';
