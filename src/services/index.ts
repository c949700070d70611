export { Supervisor } from './supervisor.js';
export { serviceRoutes } from './routes.js';
