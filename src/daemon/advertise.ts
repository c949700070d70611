import os from 'node:os';

/**
 * The console URL other hosts can use: the API's own address, except that a wildcard
 * bind (0.0.0.0, ::) is replaced by this host's first external address.
 */
export function advertisedUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host !== '0.0.0.0' && host !== '::') return url.toString();
  const external = externalAddress(host === '::' ? 'IPv6' : 'IPv4') ?? externalAddress('IPv4');
  url.hostname = external ? (external.includes(':') ? `[${external}]` : external) : os.hostname();
  return url.toString();
}

function externalAddress(family: 'IPv4' | 'IPv6'): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === family && !a.address.startsWith('fe80')) return a.address;
    }
  }
  return undefined;
}
