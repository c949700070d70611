import net from 'node:net';

/**
 * A loopback TCP proxy in front of a server, to make network faults for real.
 * - cut('reset'): every connection is destroyed and new ones are closed at once (a server
 *   or link that is plainly gone: the client sees errors straight away);
 * - cut('blackhole'): connections stay open but nothing moves either way, and new ones are
 *   accepted and then hang (a partition: the client sees silence, not errors);
 * - restore(): traffic flows again (blackholed connections resume where they stopped).
 * Listens on `listenHost` (use '::1' to test IPv6 clients) and is closed at teardown.
 */
export async function startProxy(t, { targetPort, targetHost = '127.0.0.1', listenHost = '127.0.0.1' }) {
  let mode = 'open';
  const pairs = new Set();

  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (mode === 'reset') {
      client.destroy();
      return;
    }
    const pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (mode === 'blackhole') client.pause();
    else connectUpstream(pair);
  });

  function connectUpstream(pair) {
    const upstream = net.connect({ port: targetPort, host: targetHost });
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => {
      // in a partition the server's FIN or RST never reaches the client: it learns of it
      // only when the link is back (restore), as on a real network
      if (mode === 'blackhole') pair.upstreamGone = true;
      else pair.client.destroy();
    });
    pair.client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => pair.client.write(d));
    pair.client.resume();
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, resolve);
  });
  const { port } = server.address();
  const hostPart = listenHost.includes(':') ? `[${listenHost}]` : listenHost;

  const proxy = {
    port,
    host: listenHost,
    connect: `${hostPart}:${port}`,
    get mode() {
      return mode;
    },
    get connections() {
      return pairs.size;
    },
    cut(how = 'reset') {
      mode = how;
      for (const pair of pairs) {
        if (how === 'reset') {
          pair.client.destroy();
          pair.upstream?.destroy();
        } else {
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
    },
    restore() {
      mode = 'open';
      for (const pair of pairs) {
        if (pair.upstreamGone) {
          pair.client.destroy();
        } else if (pair.upstream) {
          pair.client.resume();
          pair.upstream.resume();
        } else {
          connectUpstream(pair);
        }
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
  t.teardown(() => proxy.close());
  return proxy;
}
