export { Presence, type PresenceOptions, type PresenceStatus } from './presence.js';
export { buildRecord, decodeRecord, encodeRecord, MAX_RECORD_BYTES } from './record.js';
export { ClusterReader, readFleet, whenConnected, type ClusterNode } from './cluster-reader.js';
export { ZkClient, ZkError, ZkMultiError, zkCode, type ZkClientOptions, type ZkEvent, type ZkOp, type ZkOpResult, type ZkStat, type ZkState } from './zk-client.js';
