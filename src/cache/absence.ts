// Proves that paths still do not exist (a new header that would shadow an old one).
// A directory whose stat is unchanged since we saw a name missing in it cannot have
// gained that name; otherwise we stat the path itself. Cheap for hundreds of probes.
import * as fs from "node:fs";
import * as path from "node:path";
import { newestChangeNs, sameSnapshot, type StatSnapshot, snapshotOf } from "../platform/fsx.ts";

const RACY_WINDOW_NS = 2_000_000_000n;
const MAX_DIRS = 100_000;

interface DirMemo {
  readonly snapshot: StatSnapshot;
  readonly newestNs: bigint;
  readonly verifiedAtNs: bigint;
  readonly absent: Set<string>;
}

export class AbsenceChecker {
  private readonly dirs = new Map<string, DirMemo>();

  /** One validation pass; directory stats are shared by the probes of that pass. */
  pass(): (p: string) => boolean {
    const seen = new Map<string, fs.BigIntStats | null>();
    const statDir = (d: string): fs.BigIntStats | null => {
      let st = seen.get(d);
      if (st === undefined) {
        st = fs.statSync(d, { bigint: true, throwIfNoEntry: false }) ?? null;
        if (st !== null && !st.isDirectory()) st = null;
        seen.set(d, st);
      }
      return st;
    };
    return (p: string): boolean => {
      const dir = path.dirname(p);
      const name = path.basename(p);
      const st = statDir(dir);
      // No such directory (or not a directory): nothing can exist below it.
      if (st === null) return true;
      const snap = snapshotOf(st);
      const newestNs = newestChangeNs(st);
      const known = this.dirs.get(dir);
      const memo =
        known && sameSnapshot(known.snapshot, snap) && known.verifiedAtNs - newestNs > RACY_WINDOW_NS ? known : null;
      if (memo?.absent.has(name)) return true;
      const exists = fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
      if (!exists) {
        const fresh = memo ?? {
          snapshot: snap,
          newestNs,
          verifiedAtNs: BigInt(Date.now()) * 1_000_000n,
          absent: new Set<string>(),
        };
        fresh.absent.add(name);
        if (this.dirs.size >= MAX_DIRS) this.dirs.clear();
        this.dirs.set(dir, fresh);
      }
      return !exists;
    };
  }
}
