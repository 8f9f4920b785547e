// Content hashes of the crate files this daemon itself just wrote (a hit's delivery or a
// miss's stored outputs), so the dependents that name them with `--extern` a moment later
// do not read and hash them again. An entry is used only while the file's stat (inode,
// size, mtime, ctime) is exactly what it was right after we wrote or stored it; anything
// else falls back to the shared stat-validated hash memo.
import * as fs from "node:fs";
import type { FileHashes } from "../file-hashes.ts";
import type { ContentHash } from "../../platform/hash.ts";
import { sameSnapshot, type StatSnapshot, snapshotOf } from "../../platform/fsx.ts";

const MAX_ENTRIES = 100_000;

export class KnownOutputs {
  private readonly memo = new Map<string, { snapshot: StatSnapshot; hash: ContentHash }>();

  /** Records a file we wrote with known content; `before` is its stat from before we read it. */
  record(p: string, hash: ContentHash, before?: StatSnapshot): void {
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile() || (before !== undefined && !sameSnapshot(before, st))) {
      this.memo.delete(p);
      return;
    }
    if (this.memo.size >= MAX_ENTRIES) this.memo.clear();
    this.memo.set(p, { snapshot: snapshotOf(st), hash });
  }

  hash(p: string, files: FileHashes): ContentHash | null {
    const known = this.memo.get(p);
    if (known !== undefined) {
      const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
      if (st?.isFile() && sameSnapshot(known.snapshot, st)) return known.hash;
      this.memo.delete(p);
    }
    return files.hash(p);
  }
}
