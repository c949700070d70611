export { Supervisor } from './supervisor.js';
export { serviceRoutes } from './routes.js';
export { AT_REST } from './state.js';
