// Work a request finishes after its reply has gone out. A C/C++ miss writes its entry (blobs
// and index row) once the build has its answer: the bytes it stores were read, and everything
// the entry records was checked, before that answer; only the writing waits. A lookup of a key
// whose entry is still being written waits for it (the same source compiled again at once is
// a hit, as before), and a request that reads the store as a whole (status, clear, stop, …)
// waits for everything deferred so far.

export class AfterReply {
  private readonly byKey = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onError: (e: unknown) => void) {}

  /** Work started and not yet finished. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Runs `work` once the current reply has been written (immediates run after the reply's
   * microtasks); until it ends, `settled(k)` for each of `keys` waits for it. `work` reports
   * its own failures; anything it throws goes to `onError`.
   */
  defer(keys: readonly string[], work: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((e: unknown) => this.onError(e))
      .finally(() => this.running.delete(p));
    this.running.add(p);
    for (const k of keys) {
      // Two misses of one key in flight: a lookup waits for both.
      const before = this.byKey.get(k);
      const now = before === undefined ? p : Promise.all([before, p]).then(() => undefined);
      this.byKey.set(k, now);
      void now.then(() => {
        if (this.byKey.get(k) === now) this.byKey.delete(k);
      });
    }
  }

  /** Resolves once no entry for `key` is being written; undefined when none is. */
  settled(key: string): Promise<void> | undefined {
    return this.byKey.get(key);
  }

  /** Resolves once everything deferred so far has finished. */
  drain(): Promise<void> {
    return this.running.size === 0 ? Promise.resolve() : Promise.all([...this.running]).then(() => undefined);
  }
}
