import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startHostileServer } from '../helpers/hostile-server.mjs';
import { tempDir } from '../helpers/tmp.mjs';

const require = createRequire(import.meta.url);
const { Fetcher, DEFAULT_RETRY, DEFAULT_TIMEOUTS } = require('../../dist/artifacts/fetcher.js');
const { silentLogger } = require('../../dist/lib/log.js');

/**
 * The root of undici#5360: a body read more slowly than the network delivers it (a disk
 * slower than the link) backs up into the HTTP client; with undici 7, a server that then
 * closes the connection (`Connection: close`, FIN) crashed the process with an uncatchable
 * `assert(!this.paused)`, whether or not the body was being read. The download here goes
 * into a FIFO drained slowly, so the client is under backpressure when the server closes.
 */
test('a download read more slowly than it arrives, from a server that closes, completes exactly', async (t) => {
  const body = randomBytes(8 * 1024 * 1024);
  const server = await startHostileServer(t, { body });
  const fifo = path.join(await tempDir(t, 'nodee-slow-'), 'archive.zip');
  execFileSync('mkfifo', [fifo]);
  const fetcher = new Fetcher({ log: silentLogger(), timeouts: DEFAULT_TIMEOUTS, retry: DEFAULT_RETRY, maxBytes: 64 * 1024 * 1024 });
  t.teardown(() => fetcher.close());

  const received = createHash('sha256');
  let got = 0;
  const slowDisk = new Writable({
    highWaterMark: 1,
    write(chunk, _enc, done) {
      received.update(chunk);
      got += chunk.length;
      setTimeout(done, 1);
    },
  });
  const reading = pipeline(createReadStream(fifo, { highWaterMark: 16 * 1024 }), slowDisk);
  const download = await fetcher.download(`${server.url}/no-range/app.zip`, fifo, { signal: new AbortController().signal, hashes: ['sha256'], onProgress: () => undefined });
  await reading;
  const sha256 = createHash('sha256').update(body).digest('hex');
  t.is(download.bytes, body.length);
  t.is(download.digests.sha256, sha256);
  t.is(got, body.length);
  t.is(received.digest('hex'), sha256);
});
