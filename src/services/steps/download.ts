import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { NodeeError, errnoOf, messageOf } from '../../lib/errors.js';

/**
 * Fetches `url` (http, https or file) to `dest`, hashing on the way; a wrong sha256 or a
 * body over `maxBytes` removes `dest` and throws. Used by `files[].url` and `restore`.
 */
export async function download(url: string, dest: string, o: { sha256?: string | undefined; maxBytes: number; what: string }): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > o.maxBytes) return cb(new NodeeError('TOO_LARGE', `${o.what}: ${url} is larger than ${o.maxBytes} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(await open(url, o.what), meter, createWriteStream(dest, { mode: 0o600 }));
    const actual = hash.digest('hex');
    if (o.sha256 && actual !== o.sha256) {
      throw new NodeeError('CHECKSUM_MISMATCH', `${o.what}: ${url} has sha256 ${actual}, expected ${o.sha256}`);
    }
  } catch (err) {
    await fs.rm(dest, { force: true });
    if (err instanceof NodeeError) throw err;
    throw new NodeeError('REPOSITORY_ERROR', `${o.what}: cannot fetch ${url} (${errnoOf(err) ?? messageOf(err)})`, { cause: err });
  }
}

async function open(url: string, what: string): Promise<Readable> {
  if (url.startsWith('file://')) return createReadStream(fileURLToPath(url));
  const res = await request(url, { headersTimeout: 30_000, bodyTimeout: 60_000 });
  if (res.statusCode !== 200) {
    res.body.resume();
    if (res.statusCode === 404) throw new NodeeError('BAD_REQUEST', `${what}: ${url} answered 404`);
    throw new NodeeError('REPOSITORY_ERROR', `${what}: ${url} answered HTTP ${res.statusCode}`);
  }
  return res.body;
}
