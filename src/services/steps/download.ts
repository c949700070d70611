import { promises as fs } from 'node:fs';
import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, Fetcher } from '../../artifacts/index.js';
import { NodeeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

/**
 * Fetches `url` (http, https or file) to `dest` through the artifact store's Fetcher, so
 * `files[].url` and `restore.url` get the same timeouts and bounded retries as an install.
 * A missing file, a wrong sha256 or a body over `maxBytes` removes `dest` and throws.
 */
export async function download(
  url: string,
  dest: string,
  o: { sha256?: string | undefined; maxBytes: number; what: string; log: Logger },
): Promise<void> {
  // downloads happen once per service, before its first start: no connection pool to keep
  const fetcher = new Fetcher({ log: o.log, timeouts: DEFAULT_TIMEOUTS, retry: DEFAULT_RETRY });
  const aborter = new AbortController();
  let tooLarge = false;
  try {
    const got = await fetcher.download(url, dest, {
      signal: aborter.signal,
      hashes: ['sha256'],
      onProgress: (bytes, total) => {
        if (!tooLarge && Math.max(bytes, total ?? 0) > o.maxBytes) {
          tooLarge = true;
          aborter.abort();
        }
      },
    });
    if (!got) throw new NodeeError('BAD_REQUEST', `${o.what}: ${url} was not found`);
    if (o.sha256 && got.digests.sha256 !== o.sha256) {
      throw new NodeeError('CHECKSUM_MISMATCH', `${o.what}: ${url} has sha256 ${got.digests.sha256}, expected ${o.sha256}`);
    }
  } catch (err) {
    await fs.rm(dest, { force: true });
    if (tooLarge) throw new NodeeError('TOO_LARGE', `${o.what}: ${url} is larger than ${o.maxBytes} bytes`);
    throw err;
  } finally {
    await fetcher.close();
  }
}
