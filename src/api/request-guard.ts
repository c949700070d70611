import os from 'node:os';
import type { Context, Next } from 'koa';
import { NodeeError } from '../lib/errors.js';

export interface RequestGuardOptions {
  /** The configured listen host (brackets stripped), e.g. 127.0.0.1, ::1, 0.0.0.0, a name. */
  listenHost: string;
  tls: boolean;
  /** Extra names the API may be addressed by (api.allowedHosts), on any port. */
  allowedHosts: readonly string[];
}

/**
 * Browser-borne attacks on a daemon that listens on loopback and runs as root:
 *
 * - DNS rebinding: a page on evil.example re-resolves its own name to 127.0.0.1 and then
 *   talks to us "same-origin". The browser still sends `Host: evil.example:port`, so a Host
 *   that is not one of our own names or addresses is refused (421).
 * - Cross-site requests: a page on any other origin may send "simple" requests (form posts,
 *   no-cors fetch) without a preflight. Browsers mark them with `Origin` (always on
 *   non-GET) and `Sec-Fetch-Site`; anything not from our own origin is refused (403).
 *   `Origin: null` (sandboxed frames, file://) is foreign too.
 *
 * /healthz stays open to any Host and Origin: load balancers and probes call it by names
 * we cannot know, and it changes nothing.
 */
export function requestGuard(o: RequestGuardOptions) {
  const extra = new Set(o.allowedHosts.flatMap((h) => normalizeHost(h) ?? []));
  const scheme = o.tls ? 'https' : 'http';
  let own = ownNames(o.listenHost);

  const isOwnName = (hostname: string): boolean => {
    if (own.has(hostname)) return true;
    // addresses come and go (DHCP, a new interface): look again before refusing
    own = ownNames(o.listenHost);
    return own.has(hostname);
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path === '/healthz') return next();

    const host = ctx.req.headers.host ?? '';
    const authority = parseAuthority(scheme, host);
    const port = ctx.req.socket.localPort;
    const known =
      authority !== undefined &&
      (extra.has(authority.hostname) || (isOwnName(authority.hostname) && authority.port === port));
    if (!known) {
      throw new NodeeError('MISDIRECTED_REQUEST', `this API does not answer to the host name "${host}" (see api.allowedHosts)`);
    }

    // Origin is compared with the origin the client used to reach us: the console's own
    const origin = ctx.get('origin');
    if (origin !== '' && !sameOrigin(origin, authority.origin)) {
      throw new NodeeError('FORBIDDEN', `cross-origin request from ${origin} refused`);
    }
    if (foreignFetch(ctx)) {
      throw new NodeeError('FORBIDDEN', `cross-site request refused (Sec-Fetch-Site: ${ctx.get('sec-fetch-site')})`);
    }
    await next();
  };
}

/**
 * Fetch metadata, defence in depth for browsers that omit Origin on a request. A top-level
 * GET navigation (a link to the console from a wiki page) is allowed: it cannot change
 * anything, and what it shows lands in the operator's own tab, not the linking page.
 */
function foreignFetch(ctx: Context): boolean {
  const site = ctx.get('sec-fetch-site');
  if (site === '' || site === 'same-origin' || site === 'none') return false;
  const safeNavigation = (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.get('sec-fetch-mode') === 'navigate';
  return !safeNavigation;
}

interface Authority {
  hostname: string; // lower case, IPv6 in brackets, as WHATWG URL spells it
  port: number;
  origin: string;
}

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** The Host header as the URL parser reads it, or undefined when it is not a plain host[:port]. */
function parseAuthority(scheme: string, host: string): Authority | undefined {
  if (!HOST_HEADER.test(host)) return undefined; // also refuses "a@b", "a/b", an empty Host
  try {
    const url = new URL(`${scheme}://${host}`);
    const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
    return { hostname: url.hostname, port, origin: url.origin };
  } catch {
    return undefined;
  }
}

function sameOrigin(origin: string, own: string): boolean {
  try {
    return new URL(origin).origin === own; // normalises case and default ports; "null" throws
  } catch {
    return false;
  }
}

/**
 * The names a legitimate client reaches this machine by: localhost (exactly: Chromium
 * resolves every *.localhost to loopback, so a subdomain proves nothing), the configured
 * listen host, the host name, and every interface address. Wildcard listen addresses are
 * not names a client should use.
 */
function ownNames(listenHost: string): Set<string> {
  const names = ['localhost', listenHost, os.hostname()];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) names.push(a.address);
  }
  const out = new Set<string>();
  for (const name of names) {
    const hostname = normalizeHost(name);
    if (hostname !== undefined && hostname !== '0.0.0.0' && hostname !== '[::]') out.add(hostname);
  }
  return out;
}

function normalizeHost(name: string): string | undefined {
  try {
    const bare = name.includes(':') && !name.startsWith('[');
    return new URL(`http://${bare ? `[${name}]` : name}`).hostname;
  } catch {
    return undefined; // e.g. a scoped IPv6 address (fe80::1%eth0)
  }
}
