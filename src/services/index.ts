export { Supervisor } from './supervisor.js';
export { serviceRoutes } from './routes.js';
export { AT_REST } from './state.js';
// what the fleet scheduler validates jobs with and places by (src/scheduler): one rule each, not a copy
export { serviceSpecSchema } from './spec.js';
export { coordinateProblem } from './coordinate.js';
export { addUp, fits, shortOf, RESERVED, type ReservedKey } from './admission.js';
export { awaitService, type ServiceWait } from './events.js';
