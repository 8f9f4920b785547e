// Which files this daemon's own jobs write, and which job owns each file an entry stored or
// delivered (named by the job's main output): what a link or its deploy hook finds changed in
// its output directory may only be captured when no other job of ours wrote it meanwhile and
// no other job's entry owns it.
/** How long a finished job's outputs still count as "written meanwhile". */
const FINISHED_KEPT_MS = 10 * 60_000;
/** Entries the owner map keeps (oldest forgotten first). */
const MAX_OWNED = 100_000;

export class OutputWrites {
  private nextId = 0;
  private readonly active = new Map<number, readonly string[]>();
  /** Path → when the last job writing it ended. */
  private readonly ended = new Map<string, number>();
  private readonly owners = new Map<string, string>();

  /** A job starts writing `paths`; call the returned function when it is done with them. */
  begin(paths: readonly string[]): () => void {
    const id = this.nextId++;
    this.active.set(id, paths);
    return () => {
      if (!this.active.delete(id)) return;
      const now = Date.now();
      for (const p of paths) {
        this.ended.delete(p);
        this.ended.set(p, now);
      }
      this.prune(now);
    };
  }

  /** Whether a job other than the one holding `mine` wrote (or is writing) `path` since `sinceMs`. */
  writtenByOthers(path: string, sinceMs: number, mine: ReadonlySet<string>): boolean {
    if (mine.has(path)) return false;
    for (const paths of this.active.values()) if (paths.includes(path)) return true;
    const end = this.ended.get(path);
    return end !== undefined && end >= sinceMs;
  }

  /** `path` now holds what an entry of the job writing `mainOutput` stored or delivered. */
  own(path: string, mainOutput: string): void {
    this.owners.delete(path);
    this.owners.set(path, mainOutput);
    if (this.owners.size > MAX_OWNED) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
  }

  ownerOf(path: string): string | undefined {
    return this.owners.get(path);
  }

  private prune(now: number): void {
    for (const [p, end] of this.ended) {
      if (now - end <= FINISHED_KEPT_MS) break;
      this.ended.delete(p);
    }
  }
}
