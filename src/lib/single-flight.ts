/**
 * One run of an async task at a time, for self-healing loops (ZooKeeper presence, leader
 * election) where every trigger (connect, watch event, timer) means "look again": kick()
 * starts a run, or, while one is in progress, asks for one more run after it, so any number
 * of kicks meanwhile cost one run and none is lost. `active` is asked before each run.
 */
export class SingleFlight {
  private running: Promise<void> | undefined;
  private again = false;

  /** `task` should handle its own failures; one that escapes goes to `onError`, and the loop goes on. */
  constructor(
    private readonly task: () => Promise<void>,
    private readonly active: () => boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  kick(): void {
    if (!this.active()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.task();
        } catch (err) {
          this.onError(err);
        }
      } while (this.again && this.active());
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once no run is in progress (at once when idle). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
