/**
 * What stands between a ZooKeeper server's bytes and node-zookeeper-client 1.1.3's parser.
 * The library is unmaintained and pinned, so its flaws are covered here rather than fixed
 * upstream. It parses replies inside the socket's 'data' handler, where every exception is
 * an uncaught exception (the daemon exits), and a server can make it throw in many ways: a
 * negative frame length, a truncated ConnectResponse or reply, an unknown error code or
 * event type. Worse, some input throws nothing: a frame length of 0x7fffffff makes it buffer
 * whatever follows without bound, a data length of ~2 GB inside a small frame makes it
 * allocate ~2 GB, and a list of strings whose lengths are -4 makes it loop in place for up
 * to 2^31 entries. And a connection closed mid-frame leaves the partial frame in the
 * library's buffer, to be glued in front of the next connection's first bytes.
 *
 * This module does not import the library (zk-client.ts is the only file that does); it
 * receives the library's objects and:
 * - frames the stream itself: a length outside 0 … MAX_FRAME_BYTES drops the connection
 *   before anything is buffered, the buffer is per socket, and the library is handed exactly
 *   one whole frame at a time (so it never buffers or recurses on its own);
 * - replaces the library's record parser with one that checks every length against the
 *   frame it is in, so no field can allocate, loop or read past the bytes the server sent;
 * - catches anything the library still throws while handling a frame, drops the connection
 *   (the library then reconnects, as it does for an out-of-order reply) and reports why.
 */

/** The largest frame accepted: the Java client's default packet limit (jute.maxbuffer), 4 MiB. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** A ZooKeeper server sent bytes that are not a valid reply. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

// ---- the library internals this module touches (node-zookeeper-client 1.1.3) --------------
interface Attribute {
  name: string;
  type: string;
}
interface JuteRecord {
  specification: Attribute[];
  chrootPath?: string;
  deserialize(buffer: Buffer, offset: number): number;
  [field: string]: unknown;
}
type RecordClass = new () => JuteRecord;
/** lib/jute: the generated record classes, all sharing one Record.prototype. */
export interface JuteModule {
  data: Record<string, RecordClass>;
  protocol: Record<string, RecordClass>;
}
interface LibSocket {
  destroyed: boolean;
  destroy(): void;
}
/** A request sent and waiting for its reply; the library fails those left queued when a socket closes. */
interface LibPendingPacket {
  callback?: (...args: unknown[]) => void;
}
/** lib/ConnectionManager: binds `this.onSocketData` to each new socket's 'data' event. */
export interface LibConnectionManager {
  socket?: LibSocket;
  pendingBuffer: Buffer | null;
  pendingQueue: LibPendingPacket[];
  onSocketData(chunk: Buffer): void;
}
// ---------------------------------------------------------------------------------------------

/**
 * Makes every record of the library parse strictly (see strictDeserialize). It patches the
 * prototype the generated classes share, so it is done once for the process; idempotent.
 */
export function hardenJute(jute: JuteModule): void {
  const sample = jute.protocol.ConnectResponse;
  if (!sample) throw new Error('node-zookeeper-client: lib/jute has no ConnectResponse (not version 1.1.3?)');
  const recordPrototype = Object.getPrototypeOf(sample.prototype) as { deserialize: JuteRecord['deserialize']; nodeeStrict?: true };
  if (recordPrototype.nodeeStrict) return;
  recordPrototype.deserialize = function (this: JuteRecord, buffer: Buffer, offset: number): number {
    return strictDeserialize(jute, this, buffer, offset);
  };
  recordPrototype.nodeeStrict = true;
}

/**
 * The library's Record.deserialize with every length checked: same fields, same values (a
 * `long` stays an 8-byte Buffer, a length of -1 stays undefined, the chroot is cut from
 * `path`), but a field that would run past the frame throws a WireError instead of
 * allocating, looping, or reading garbage.
 */
function strictDeserialize(jute: JuteModule, record: JuteRecord, buffer: Buffer, offset: number): number {
  if (offset < 0 || offset >= buffer.length) throw new WireError(`a record starts at ${offset} of a ${buffer.length}-byte frame`);
  let at = offset;
  for (const { name, type } of record.specification) {
    const [value, next] = readField(jute, type, buffer, at);
    at = next;
    if (name === 'path' && record.chrootPath && typeof value === 'string') {
      record[name] = value === record.chrootPath ? '/' : value.substring(record.chrootPath.length);
    } else {
      record[name] = value;
    }
  }
  return at - offset;
}

/** One field at `at`: its value and where the next field starts (always past `at`). */
function readField(jute: JuteModule, type: string, buffer: Buffer, at: number): [unknown, number] {
  switch (type) {
    case 'int':
      need(buffer, at, 4, type);
      return [buffer.readInt32BE(at), at + 4];
    case 'long':
      need(buffer, at, 8, type);
      return [Buffer.from(buffer.subarray(at, at + 8)), at + 8];
    case 'boolean':
      need(buffer, at, 1, type);
      return [buffer.readUInt8(at) === 1, at + 1];
    case 'buffer':
    case 'ustring': {
      const length = readLength(buffer, at, type);
      if (length < 0) return [undefined, at + 4];
      need(buffer, at + 4, length, type);
      const bytes = buffer.subarray(at + 4, at + 4 + length);
      return [type === 'buffer' ? Buffer.from(bytes) : bytes.toString('utf8'), at + 4 + length];
    }
  }
  const vector = /^vector<([\w.]+)>$/.exec(type);
  if (vector) {
    const count = readLength(buffer, at, type);
    if (count < 0) return [undefined, at + 4];
    // every element takes at least one byte: a count beyond the bytes left is a lie
    need(buffer, at + 4, count, type);
    const items: unknown[] = [];
    let next = at + 4;
    for (let i = 0; i < count; i++) {
      const [item, after] = readField(jute, vector[1] as string, buffer, next);
      items.push(item);
      next = after;
    }
    return [items, next];
  }
  const nested = /^data\.(\w+)$/.exec(type);
  const RecordType = nested ? jute.data[nested[1] as string] : undefined;
  if (!RecordType) throw new WireError(`unknown field type ${type}`);
  const record = new RecordType();
  return [record, at + record.deserialize(buffer, at)];
}

/** A length or count prefix: -1 means "none"; other negatives are errors. */
function readLength(buffer: Buffer, at: number, type: string): number {
  need(buffer, at, 4, type);
  const length = buffer.readInt32BE(at);
  if (length < -1) throw new WireError(`${type} at byte ${at} has length ${length}`);
  return length;
}

function need(buffer: Buffer, at: number, bytes: number, type: string): void {
  if (at + bytes > buffer.length) throw new WireError(`${type} at byte ${at} needs ${bytes} bytes; the frame has ${buffer.length}`);
}

/**
 * Puts the framing and the exception guard in front of one ConnectionManager's data handler.
 * Call before `connect()`: the library binds `onSocketData` when it opens each socket.
 * `onGarbage` hears why a connection was dropped; it must not throw.
 */
export function guardConnection(cm: LibConnectionManager, onGarbage: (reason: string) => void): void {
  const parseFrame = cm.onSocketData;
  let socket: LibSocket | undefined;
  let chunks: Buffer[] = [];
  let buffered = 0;

  cm.onSocketData = function (this: LibConnectionManager, chunk: Buffer): void {
    const current = this.socket;
    if (current !== socket) {
      // a new connection starts with an empty buffer, whatever the last one left
      socket = current;
      chunks = [];
      buffered = 0;
    }
    try {
      chunks.push(chunk);
      buffered += chunk.length;
      while (buffered >= 4) {
        const head = chunks[0] && chunks[0].length >= 4 ? chunks[0] : Buffer.concat(chunks);
        const size = head.readInt32BE(0);
        if (size < 0 || size > MAX_FRAME_BYTES) throw new WireError(`frame length ${size} (allowed 0 … ${MAX_FRAME_BYTES})`);
        if (buffered < 4 + size) return;
        const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        const frame = all.subarray(0, 4 + size);
        chunks = all.length > frame.length ? [all.subarray(frame.length)] : [];
        buffered -= frame.length;
        // exactly one whole frame: the library neither keeps a remainder nor recurses
        this.pendingBuffer = null;
        parseOne(this, parseFrame, frame);
        this.pendingBuffer = null;
        // the library itself drops a connection on a reply it did not ask for
        if (!current || current.destroyed || this.socket !== current) return;
      }
    } catch (err) {
      // the caller's request fails (CONNECTION_LOSS) when the socket closes
      chunks = [];
      buffered = 0;
      this.pendingBuffer = null;
      current?.destroy(); // 'close' follows: pending requests fail with CONNECTION_LOSS, the library reconnects
      onGarbage(err instanceof Error ? err.message : String(err));
    }
  };
}

/**
 * Hands the library one frame. The library takes a reply's request off its pending queue
 * before parsing the reply; if parsing throws, that request would never be answered (its
 * caller waits for its deadline). So it goes back to the head of the queue, to be failed
 * with the rest when the socket closes, unless its callback already ran.
 */
function parseOne(cm: LibConnectionManager, parseFrame: (chunk: Buffer) => void, frame: Buffer): void {
  const head = cm.pendingQueue[0];
  const callback = head?.callback;
  let answered = false;
  if (head && callback) {
    head.callback = (...args: unknown[]) => {
      answered = true;
      callback(...args);
    };
  }
  try {
    parseFrame.call(cm, frame);
  } catch (err) {
    if (head && !answered && cm.pendingQueue[0] !== head) cm.pendingQueue.unshift(head);
    throw err;
  } finally {
    if (head && callback) head.callback = callback;
  }
}
