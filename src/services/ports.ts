import net from 'node:net';
import { NodeeError } from '../lib/errors.js';

/**
 * The pool of named ports (`ports.from`..`ports.to`). A port belongs to one service from
 * allocation until the service is removed; ownership is rebuilt from the persisted records
 * at start-up, so two services never get one port, even across daemon restarts.
 */
export class PortPool {
  private readonly owner = new Map<number, string>();
  private cursor: number;

  constructor(private readonly range: { from: number; to: number }) {
    this.cursor = range.from;
  }

  /** Records ports a persisted service already holds. */
  claim(coordinate: string, ports: Record<string, number>): void {
    for (const port of Object.values(ports)) this.owner.set(port, coordinate);
  }

  /**
   * Allocates one port per name, skipping ports some other process is listening on.
   * All or nothing: on PORTS_EXHAUSTED nothing stays allocated.
   */
  async allocate(coordinate: string, names: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const size = this.range.to - this.range.from + 1;
    try {
      for (const name of names) {
        let found: number | undefined;
        for (let tried = 0; tried < size && found === undefined; tried++) {
          const port = this.cursor;
          this.cursor = port >= this.range.to ? this.range.from : port + 1;
          if (this.owner.has(port)) continue;
          // reserve before the await so a concurrent allocation cannot take it too
          this.owner.set(port, coordinate);
          if (await isFree(port)) found = port;
          else this.owner.delete(port);
        }
        if (found === undefined) {
          throw new NodeeError('PORTS_EXHAUSTED', `no free port left in ${this.range.from}-${this.range.to} for "${name}"`);
        }
        out[name] = found;
      }
      return out;
    } catch (err) {
      this.release(out);
      throw err;
    }
  }

  release(ports: Record<string, number>): void {
    for (const port of Object.values(ports)) this.owner.delete(port);
  }
}

/** True when nothing listens on the port on any address (a quick bind, then close). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
