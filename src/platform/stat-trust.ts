// The one rule for reusing a memoised fact about a file (its hash, its absence from a
// directory, a fingerprint) without reading the file again. An unchanged stat is not enough
// on its own: a same-size rewrite inside one timestamp tick (the kernel's coarse clock) leaves
// size, mtime, ctime and inode as they were. So the fact must also have been computed well
// after the file's last change, when no such rewrite could still be hidden behind its stamp.
import { newestChangeNs, sameSnapshot, type StatSnapshot } from "./fsx.ts";

/** How long after its newest change a file's stat stops being able to hide a rewrite. */
export const RACY_WINDOW_NS = 2_000_000_000n;

/**
 * Whether a fact computed at `computedAtNs` (wall clock, ns), when the file's stat was
 * `snapshot`, still holds for a file whose stat is now `now`: the stat is unchanged and the
 * fact is younger than the file by more than the racy window. Otherwise compute it again.
 * Allocation-free: it runs for every recorded header on every hit.
 */
export function stillTrusted(snapshot: StatSnapshot, computedAtNs: bigint, now: StatSnapshot): boolean {
  return sameSnapshot(snapshot, now) && computedAtNs - newestChangeNs(now) > RACY_WINDOW_NS;
}
