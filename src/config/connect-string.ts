/**
 * A ZooKeeper connect string (`zookeeper.connect`), parsed by us rather than by
 * node-zookeeper-client: the library splits each server on ':' (so `[::1]:2181` breaks) and
 * cannot create a chroot that does not exist yet. The grammar lives with the configuration,
 * which rejects a bad string at load; the registry connects with the parsed form and keeps
 * the chroot itself (src/registry/chroot.ts).
 */
export interface ZkServer {
  host: string;
  port: number;
}

export interface ConnectString {
  servers: ZkServer[];
  /** '' when there is none; otherwise an absolute path without a trailing slash. */
  chroot: string;
}

const DEFAULT_PORT = 2181;

export function parseConnectString(connect: string): ConnectString {
  const slash = connect.indexOf('/');
  const hostList = slash < 0 ? connect : connect.slice(0, slash);
  let chroot = slash < 0 ? '' : connect.slice(slash).replace(/\/+$/, '');
  if (chroot !== '' && !/^(\/[^/\s]+)+$/.test(chroot)) throw new Error(`bad chroot "${chroot}" in connect string`);
  if (chroot === '/') chroot = '';
  const servers = hostList
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseServer);
  if (servers.length === 0) throw new Error(`connect string "${connect}" names no server`);
  return { servers, chroot };
}

function parseServer(item: string): ZkServer {
  // [v6]:port, [v6], host:port, host, or a bare v6 address (more than one colon)
  const bracketed = /^\[([0-9A-Fa-f:.%a-z]+)\](?::(\d+))?$/.exec(item);
  if (bracketed) return { host: bracketed[1] as string, port: port(bracketed[2], item) };
  const colons = item.split(':').length - 1;
  if (colons > 1) return { host: item, port: DEFAULT_PORT };
  const [host = '', p] = item.split(':');
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new Error(`bad server "${item}" in connect string`);
  return { host, port: port(p, item) };
}

function port(text: string | undefined, item: string): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port in "${item}"`);
  return n;
}
