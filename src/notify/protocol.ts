/**
 * systemd's sd_notify datagram, parsed. A service sends newline-separated KEY=VALUE
 * assignments to $NOTIFY_SOCKET (sd_notify(3)); this module turns one datagram into the few
 * facts the supervisor acts on. Everything in it comes from the service, so nothing about
 * its shape is trusted: any bytes give a result, never an exception.
 */

/** systemd drops notification datagrams larger than this (NOTIFY_BUFFER_MAX); so do we. */
export const MAX_DATAGRAM_BYTES = 4096;
/** STATUS= is shown in the API, the CLI's table and the ZooKeeper record: one short line. */
export const MAX_STATUS_CHARS = 256;

export interface NotifyMessage {
  /** READY=1: start-up is complete. */
  ready?: true;
  /** STOPPING=1: the service is shutting down on its own. */
  stopping?: true;
  /** RELOADING=1: the service is reloading its configuration (READY=1 follows). */
  reloading?: true;
  /** STATUS=: free text for people, control characters replaced, at most MAX_STATUS_CHARS. */
  status?: string;
  /** WATCHDOG=1 is a keep-alive ('ping'); WATCHDOG=trigger asks to be treated as hung. */
  watchdog?: 'ping' | 'trigger';
  /** WATCHDOG_USEC=: the service asks for a different watchdog interval. */
  watchdogUsec?: number;
  /** EXTEND_TIMEOUT_USEC=: the service asks for more time to start or stop. */
  extendTimeoutUsec?: number;
  /** MAINPID=: the service's main process is now this pid (a forking daemon). */
  mainPid?: number;
  /** ERRNO=: the errno the service failed with. */
  errno?: number;
}

export type ParseResult = { message: NotifyMessage } | { refused: 'too-large'; bytes: number };

// One decoder: invalid UTF-8 becomes U+FFFD instead of throwing (fatal: false).
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Parses one datagram. A datagram over MAX_DATAGRAM_BYTES is refused whole, as systemd does:
 * its assignments past the cut are lost anyway, and acting on the first half of a message is
 * worse than ignoring it. Unknown keys, lines without '=' and values that do not parse are
 * ignored one by one, so a service that sends one bad field still gets the others through.
 * When a key repeats, the first one counts (systemd looks keys up with strv_find_startswith).
 */
export function parseNotify(datagram: Uint8Array): ParseResult {
  if (datagram.length > MAX_DATAGRAM_BYTES) return { refused: 'too-large', bytes: datagram.length };
  const message: NotifyMessage = {};
  const seen = new Set<string>();
  for (const line of decoder.decode(datagram).split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    if (seen.has(key)) continue;
    seen.add(key);
    assign(message, key, line.slice(eq + 1));
  }
  return { message };
}

function assign(m: NotifyMessage, key: string, value: string): void {
  switch (key) {
    case 'READY':
      if (value === '1') m.ready = true;
      return;
    case 'STOPPING':
      if (value === '1') m.stopping = true;
      return;
    case 'RELOADING':
      if (value === '1') m.reloading = true;
      return;
    case 'STATUS':
      m.status = cleanStatus(value);
      return;
    case 'WATCHDOG':
      if (value === '1') m.watchdog = 'ping';
      else if (value === 'trigger') m.watchdog = 'trigger';
      return;
    case 'WATCHDOG_USEC':
      setNumber(m, 'watchdogUsec', value, 1);
      return;
    case 'EXTEND_TIMEOUT_USEC':
      setNumber(m, 'extendTimeoutUsec', value, 1);
      return;
    case 'MAINPID':
      // pid_t is 32 bits; 1 is init and never a service's main process
      if (setNumber(m, 'mainPid', value, 2) && m.mainPid! > 0x7fffffff) delete m.mainPid;
      return;
    case 'ERRNO':
      if (setNumber(m, 'errno', value, 0) && m.errno! > 4095) delete m.errno;
      return;
    default:
      // FDSTORE=, BARRIER=, NOTIFYACCESS=... mean nothing to nodee
      return;
  }
}

/** A plain decimal (no sign, no spaces, no exponent) that is a safe integer ≥ min. */
function setNumber(m: NotifyMessage, key: 'watchdogUsec' | 'extendTimeoutUsec' | 'mainPid' | 'errno', value: string, min: number): boolean {
  if (!/^[0-9]{1,16}$/.test(value)) return false;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) return false;
  m[key] = n;
  return true;
}

/**
 * Control characters (C0, DEL, C1) would break the CLI's table and a terminal that prints
 * the status; they become spaces. The cut is by code point so no surrogate pair is split.
 */
function cleanStatus(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  const points = Array.from(clean);
  return points.length > MAX_STATUS_CHARS ? points.slice(0, MAX_STATUS_CHARS).join('') : clean;
}

/** True when the message says something (an all-unknown or empty datagram does not). */
export function isEmptyMessage(m: NotifyMessage): boolean {
  return Object.keys(m).length === 0;
}
