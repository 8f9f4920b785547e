// Answers of a tool asked about itself (`-print-search-dirs`, `-v`, `--help`, …), kept per
// key for the daemon's life: one probe per key at a time, and a failed probe is asked again
// next time. Keys must hold everything the answer depends on (the binary's hash, the
// variables and directories that move it).
export class ProbeMemo<T> {
  private readonly answers = new Map<string, Promise<T>>();

  constructor(private readonly limit: number) {}

  get(key: string, probe: () => Promise<T>): Promise<T> {
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    if (this.answers.size >= this.limit) this.answers.clear();
    const p = probe();
    this.answers.set(key, p);
    p.catch(() => {
      if (this.answers.get(key) === p) this.answers.delete(key);
    });
    return p;
  }

  /** Drops an answer found stale: the next get() asks again. */
  forget(key: string): void {
    this.answers.delete(key);
  }
}
