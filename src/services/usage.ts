import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Usage } from '../contract/index.js';

/** Figures at most this old are served as they are. */
const MAX_AGE_MS = 2000;
/** Services read in one turn of the event loop: 1,000 services are 16 short turns, not one long stall. */
const CHUNK = 64;

interface Sampled {
  /** Reads the figures now (a few small synchronous cgroup reads) and keeps them for the service's view. */
  measure(): Usage;
}

/**
 * Per-service usage for listings and /metrics, read from the cgroups only when someone asks
 * and at most every 2 s: an idle node with 1,000 services reads nothing at all, and a scrape
 * or a list of all of them costs one sample shared by every caller in the window. A single
 * service's view reads its own cgroup fresh instead.
 */
export class UsageSampler {
  private at = 0;
  private sampling: Promise<void> | undefined;

  constructor(private readonly services: () => Iterable<Sampled>) {}

  /**
   * Makes the figures at most 2 s old. `wait: false` (listings) answers at once with the last
   * figures and refreshes them in the background, so a listing never waits for 1,000 services
   * to be read; it waits only for the very first sample. /metrics waits (a scrape is seconds
   * apart, and its figures should be the scrape's).
   */
  async fresh(o: { wait: boolean }): Promise<void> {
    if (Date.now() - this.at <= MAX_AGE_MS) return;
    this.sampling ??= this.sample().finally(() => (this.sampling = undefined));
    if (o.wait || this.at === 0) await this.sampling;
  }

  private async sample(): Promise<void> {
    let n = 0;
    for (const s of this.services()) {
      s.measure();
      if (++n % CHUNK === 0) await nextTurn();
    }
    this.at = Date.now();
  }
}
