import type { Usage } from '../contract/index.js';


/** Figures at most this old are served from the last sample. */
const MAX_AGE_MS = 2000;
/** Services read at once while sampling: bounded so a big node does not flood the thread pool. */
const WIDTH = 64;

interface Sampled {
  coordinate: string;
  /** Reads the figures now and keeps them for the service's view. */
  measure(): Promise<Usage>;
}

/**
 * Per-service usage for listings and /metrics, read from the cgroups only when someone asks
 * and at most every 2 s: an idle node with 1,000 services reads nothing at all, and a
 * scrape or a list of all of them costs one sample shared by every caller in the window.
 * A single service's view reads its own cgroup fresh instead.
 */
export class UsageSampler {
  private at = 0;
  private sampling: Promise<void> | undefined;

  constructor(private readonly services: () => Iterable<Sampled>) {}

  /** Makes every service's figures at most 2 s old; waits only when they are older (or were never read). */
  async fresh(): Promise<void> {
    if (Date.now() - this.at > MAX_AGE_MS) await (this.sampling ??= this.sample().finally(() => (this.sampling = undefined)));
  }

  private async sample(): Promise<void> {
    const all = [...this.services()];
    for (let i = 0; i < all.length; i += WIDTH) await Promise.all(all.slice(i, i + WIDTH).map((s) => s.measure()));
    this.at = Date.now();
  }
}
