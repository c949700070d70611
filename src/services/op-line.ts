/**
 * One service's line of work: operator requests, policy restarts and process exits run one
 * after another, never interleaved, and the line goes on after a failure.
 */
export class OpLine {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
