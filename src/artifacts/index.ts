export { ArtifactStore, type ArtifactStoreOptions, type InstallRequest } from './store.js';
export { artifactRoutes } from './routes.js';
export { parseArtifactId, type ArtifactCoordinates } from './artifact-id.js';
export type { Artifact } from './types.js';
