export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { serviceRoutes } from './routes.js';
export { parseCoordinate, runtimeDirOf, type Coordinate } from './coordinate.js';
export type { Service, ServiceState, ExitInfo } from './types.js';
export type { ServiceSpec, ServiceSpecInput } from './spec.js';
