import { randomBytes } from 'node:crypto';
import net from 'node:net';

/**
 * A TCP server that speaks ZooKeeper's wire protocol badly, on purpose: what a broken,
 * hostile or man-in-the-middled "ZooKeeper" may send a client. Every frame on the wire is a
 * 4-byte big-endian length and that many bytes. Modes (settable at any time; they apply to
 * the next connection and to the next request on an open one):
 *
 * before a session (the client is waiting for its ConnectResponse)
 * - random:             random bytes right after accept
 * - huge-length:        a length prefix of 0x7fffffff, then silence (connection held open)
 * - huge-length-stream: a length prefix of 0x7fffffff, then junk as fast as the client reads
 * - negative-length:    a length prefix of -4 and a few bytes
 * - truncated-connect:  a ConnectResponse frame cut after its timeout field
 * - close-mid-frame:    a ConnectResponse's length and its first 10 bytes, then FIN
 * after a well-formed ConnectResponse (a "session")
 * - wrong-xid:          replies carry someone else's xid
 * - truncated-reply:    replies claim success and carry 2 bytes of their payload
 * - lying-length:       a reply's string/data/list length field claims ~2 GB (a list of
 *                       0x7fffffff strings each claiming length -4 for getChildren)
 * - unknown-error:      replies carry an error code ZooKeeper does not have
 * - bad-notification:   a watch notification of an event type that does not exist
 * - reply-mid-frame:    a reply's length and its first 10 bytes, then FIN
 * - multi-unknown-error: a transaction (multi) fails at its second operation with an error
 *                       code ZooKeeper does not have; other requests are answered as by
 *                       bad-notification (not in SESSION_MODES: a multi is the scheduler's)
 * and
 * - forward:            a plain TCP proxy to `forwardPort` (a real ZooKeeper)
 */
export const PRE_SESSION_MODES = ['random', 'huge-length', 'huge-length-stream', 'negative-length', 'truncated-connect', 'close-mid-frame'];
export const SESSION_MODES = ['wrong-xid', 'truncated-reply', 'lying-length', 'unknown-error', 'bad-notification', 'reply-mid-frame'];
export const GARBAGE_MODES = [...PRE_SESSION_MODES, ...SESSION_MODES];

const OP = { CREATE: 1, EXISTS: 3, GET_DATA: 4, GET_CHILDREN2: 12, MULTI: 14, ERROR: -1, CLOSE_SESSION: -11 };
const XID = { NOTIFICATION: -1, PING: -2 };
const STREAM_LIMIT_BYTES = 64 * 1024 * 1024; // enough to show buffering without bound, finite for the machine

/** Starts the server on a free loopback port; closed (with every connection) at teardown. */
export async function startGarbageZk(t, { mode, forwardPort } = {}) {
  const state = { mode, forwardPort, connections: 0, requests: 0 };
  const sockets = new Set();

  const server = net.createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (state.mode === 'forward') return forward(sock, state.forwardPort);
    greet(sock, state);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  const g = {
    port,
    connect: `127.0.0.1:${port}`,
    /** Connections accepted so far (each reconnect of a client is one). */
    get connections() {
      return state.connections;
    },
    /** Request frames received after a session was given. */
    get requests() {
      return state.requests;
    },
    /** Switches mode; open connections are dropped so the client comes back to the new one. */
    setMode(next, { forwardPort: fp } = {}) {
      state.mode = next;
      if (fp !== undefined) state.forwardPort = fp;
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  t.teardown(() => g.close());
  return g;
}

function forward(sock, port) {
  const up = net.connect({ port, host: '127.0.0.1' });
  up.on('error', () => sock.destroy());
  sock.on('close', () => up.destroy());
  up.on('close', () => sock.destroy());
  sock.pipe(up).pipe(sock);
}

/** What happens right after accept, and (for session modes) on every request. */
function greet(sock, state) {
  const mode = state.mode;
  switch (mode) {
    case 'random':
      sock.write(randomBytes(4096));
      return;
    case 'huge-length':
      sock.write(int32(0x7fffffff));
      return;
    case 'huge-length-stream':
      sock.write(int32(0x7fffffff));
      return stream(sock);
    case 'negative-length':
      sock.write(Buffer.concat([int32(-4), Buffer.alloc(32)]));
      return;
    case 'truncated-connect':
      sock.write(frame(int32(0), int32(4000)));
      return;
    case 'close-mid-frame':
      sock.end(Buffer.concat([int32(36), Buffer.alloc(10)]));
      return;
  }
  // the session modes: read the ConnectRequest, give a session, then answer badly
  let buffered = Buffer.alloc(0);
  let connected = false;
  sock.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const size = buffered.readInt32BE(0);
      if (buffered.length < 4 + size) return;
      const body = buffered.subarray(4, 4 + size);
      buffered = buffered.subarray(4 + size);
      if (!connected) {
        connected = true;
        // the notification goes in the same write, before the client can ask anything
        const notification = state.mode === 'bad-notification' ? frame(replyHeader(XID.NOTIFICATION, 0), int32(99), int32(3), ustring('/meta')) : Buffer.alloc(0);
        sock.write(Buffer.concat([connectResponse(), notification]));
        continue;
      }
      state.requests++;
      const xid = body.readInt32BE(0);
      const type = body.readInt32BE(4);
      answer(sock, state.mode, xid, type);
    }
  });
}

function answer(sock, mode, xid, type) {
  if (xid < 0 || type === OP.CLOSE_SESSION) {
    // pings, auth, set-watches and close are answered properly: the garbage is elsewhere
    sock.write(frame(replyHeader(xid, 0)));
    return;
  }
  switch (mode) {
    case 'wrong-xid':
      sock.write(frame(replyHeader(xid + 7, 0), stat()));
      return;
    case 'truncated-reply':
      sock.write(frame(replyHeader(xid, 0), Buffer.alloc(2)));
      return;
    case 'unknown-error':
      sock.write(frame(replyHeader(xid, -9999)));
      return;
    case 'reply-mid-frame':
      sock.end(Buffer.concat([int32(100), replyHeader(xid, 0).subarray(0, 10)]));
      return;
    case 'lying-length':
      if (type === OP.EXISTS) sock.write(frame(replyHeader(xid, -101))); // NO_NODE: go on and create
      else if (type === OP.GET_CHILDREN2) sock.write(frame(replyHeader(xid, 0), int32(0x7fffffff), ...Array.from({ length: 16 }, () => int32(-4))));
      else sock.write(frame(replyHeader(xid, 0), int32(0x7ffffff0), Buffer.from('abc'))); // create's path, getData's data
      return;
    case 'multi-unknown-error':
      if (type === OP.MULTI) {
        // MultiHeader (type, done, err) then ErrorResponse (err) per result: OK, the unknown code, RUNTIME_INCONSISTENCY
        const result = (err) => Buffer.concat([int32(OP.ERROR), Buffer.from([0]), int32(err), int32(err)]);
        sock.write(frame(replyHeader(xid, 0), result(0), result(-9999), result(-2), int32(-1), Buffer.from([1]), int32(-1)));
        return;
      }
    // falls through: the rest is well-formed
    default:
      // bad-notification: the rest is well-formed
      sock.write(frame(replyHeader(xid, type === OP.EXISTS || type === OP.GET_DATA ? -101 : 0), type === OP.CREATE ? ustring('/x') : Buffer.alloc(0)));
  }
}

/** Writes junk as fast as the client takes it, up to STREAM_LIMIT_BYTES. */
function stream(sock) {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let sent = 0;
  const pump = () => {
    while (sent < STREAM_LIMIT_BYTES && !sock.destroyed) {
      sent += chunk.length;
      if (!sock.write(chunk)) return sock.once('drain', pump);
    }
  };
  pump();
}

function connectResponse() {
  // protocolVersion, timeOut, sessionId, passwd (16 bytes)
  return frame(int32(0), int32(4000), randomBytes(8), int32(16), randomBytes(16));
}

function replyHeader(xid, err) {
  return Buffer.concat([int32(xid), Buffer.alloc(8), int32(err)]);
}

function stat() {
  return Buffer.alloc(68);
}

function ustring(s) {
  const b = Buffer.from(s);
  return Buffer.concat([int32(b.length), b]);
}

function frame(...parts) {
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length), body]);
}

function int32(n) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
