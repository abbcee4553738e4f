/**
 * A serial section: tasks run one at a time, in the order they were submitted. The embedded
 * store's read-merge-write steps await between reads and writes, so two of them must never
 * interleave; this is the single lock that guarantees it.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The chain continues whether or not this task failed; the caller sees the failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
