import { promises as fs } from 'node:fs';
import { DEFAULT_RETRY, Fetcher, type FetchTimeouts } from '../../artifacts/index.js';
import { NodeeError, isNodeeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

/**
 * Fetches `url` (http, https or file) to `dest` through the artifact store's Fetcher, so
 * `files[].url` and `restore.url` get the same timeouts, bounded retries and size cap
 * (`maxBytes`, TOO_LARGE) as an install. A missing file, a wrong sha256 or any failure
 * removes `dest` and throws.
 */
export async function download(
  url: string,
  dest: string,
  o: { sha256?: string | undefined; maxBytes: number; timeouts: FetchTimeouts; what: string; log: Logger },
): Promise<void> {
  // downloads happen once per service, before its first start: no connection pool to keep
  const fetcher = new Fetcher({ log: o.log, timeouts: o.timeouts, retry: DEFAULT_RETRY, maxBytes: o.maxBytes });
  try {
    const got = await fetcher.download(url, dest, { signal: new AbortController().signal, hashes: ['sha256'], onProgress: () => undefined });
    if (!got) throw new NodeeError('BAD_REQUEST', `${o.what}: ${url} was not found`);
    if (o.sha256 && got.digests.sha256 !== o.sha256) {
      throw new NodeeError('CHECKSUM_MISMATCH', `${o.what}: ${url} has sha256 ${got.digests.sha256}, expected ${o.sha256}`);
    }
  } catch (err) {
    await fs.rm(dest, { force: true });
    // the fetcher's message names the URL; the spec field says which of the service's downloads
    if (isNodeeError(err) && !err.message.startsWith(o.what)) throw new NodeeError(err.code, `${o.what}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await fetcher.close();
  }
}
