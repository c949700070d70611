export { ArtifactStore, type ArtifactStoreOptions, type InstallRequest } from './store.js';
export { artifactRoutes } from './routes.js';
// the supervisor's `restore` unpacks saved state with the same checks as an artifact
export { unpack, type UnpackOptions } from './unpack.js';
// ...and fetches `files[].url` and `restore.url` with the same timeouts and retries
export { Fetcher, DEFAULT_RETRY, DEFAULT_TIMEOUTS, type FetchTimeouts } from './fetcher.js';
// ...and deletes the runtime dir and restore staging, which may be read-only, the same way
export { removeTree } from './fs-tree.js';
export { parseArtifactId, type ArtifactCoordinates } from './artifact-id.js';
