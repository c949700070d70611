import type { EventEmitter } from 'node:events';

// The slice of node-zookeeper-client 1.1.3 (pinned) that zk-client.ts and zk-multi.ts use,
// as types only: zk-client.ts stays the one module that loads the library.

export interface LibException extends Error {
  getCode(): number;
  getName(): string;
}
export interface LibStat {
  version: number;
  dataLength: number;
  numChildren: number;
  ephemeralOwner: Buffer;
}
export interface LibEvent {
  getType(): number;
  getPath(): string;
}
export type LibWatcher = (event: LibEvent) => void;
export type Callback<T extends unknown[]> = (error: LibException | null, ...result: T) => void;

/** One operation as the library's Transaction builder records it (lib/Transaction.js). */
export interface LibOp {
  type: number;
  path: string;
  version?: number;
}
export interface LibTransaction {
  ops: LibOp[];
  create(path: string, data: Buffer | undefined, acls: unknown[], mode: number): LibTransaction;
  setData(path: string, data: Buffer, version: number): LibTransaction;
  remove(path: string, version: number): LibTransaction;
  check(path: string, version: number): LibTransaction;
}
/** What a MULTI reply holds per operation (lib/jute TransactionResponse): `err` for type -1 (error). */
export interface LibOpResult {
  type: number;
  path?: string;
  stat?: LibStat;
  err?: number;
}
export interface LibConnection {
  servers: { host: string; port: number }[];
  state: number;
  socket?: { destroy(): void };
  queue(request: unknown, callback: (error: LibException | null, response?: { payload?: { results?: LibOpResult[] } }) => void): void;
}
export interface LibClient extends EventEmitter {
  connect(): void;
  close(): void;
  getSessionId(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, cb: Callback<[string]>): void;
  exists(path: string, watcher: LibWatcher | undefined, cb: Callback<[LibStat | null]>): void;
  getData(path: string, watcher: LibWatcher | undefined, cb: Callback<[Buffer | null, LibStat]>): void;
  getChildren(path: string, watcher: LibWatcher | undefined, cb: Callback<[string[], LibStat]>): void;
  setData(path: string, data: Buffer, version: number, cb: Callback<[LibStat]>): void;
  remove(path: string, version: number, cb: Callback<[]>): void;
  transaction(): LibTransaction;
  connectionManager: LibConnection;
}
export interface Lib {
  createClient(connect: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): LibClient;
  ACL: new (permission: number, id: unknown) => unknown;
  Id: new (scheme: string, id: string) => unknown;
  Permission: { READ: number; ALL: number };
  CreateMode: { PERSISTENT: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL: number; EPHEMERAL_SEQUENTIAL: number };
  /** The error codes by name (NO_NODE: -101 ...), beside the class itself. */
  Exception: Record<string, unknown>;
}
/** lib/jute: what sending a MULTI request takes. */
export interface LibJuteMulti {
  OP_CODES: Record<'CREATE' | 'DELETE' | 'SET_DATA' | 'CHECK' | 'MULTI' | 'ERROR', number>;
  protocol: { RequestHeader: new () => { type: number } };
  Request: new (header: unknown, payload: unknown) => unknown;
  TransactionRequest: new (ops: LibOp[]) => unknown;
}

export interface ZkStat {
  version: number;
  dataLength: number;
  numChildren: number;
  /** Hex session id of an ephemeral node's owner; '0000000000000000' for a persistent node. */
  ephemeralOwner: string;
}

export function toStat(s: LibStat): ZkStat {
  return { version: s.version, dataLength: s.dataLength, numChildren: s.numChildren, ephemeralOwner: s.ephemeralOwner.toString('hex') };
}
