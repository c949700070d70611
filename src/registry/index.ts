export { Presence, type PresenceOptions, type PresenceStatus } from './presence.js';
export { buildRecord, decodeRecord, encodeRecord, MAX_RECORD_BYTES } from './record.js';
export { ClusterReader, type ClusterNode } from './cluster-reader.js';
export { ZkClient } from './zk-client.js';
