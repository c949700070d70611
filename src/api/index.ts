export { ApiServer, type ApiServerOptions } from './server.js';
export type { NodeControl } from './node-routes.js';
