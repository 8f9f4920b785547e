// The one rule for reusing a memoised fact about a file (its hash, its absence from a
// directory, a fingerprint) without reading the file again. An unchanged stat is not enough
// on its own: a same-size rewrite inside one timestamp tick (the kernel's coarse clock) leaves
// size, mtime, ctime and inode as they were. So the fact must also have been computed well
// after the file's last change, when no such rewrite could still be hidden behind its stamp.
import { newestChangeNs, sameSnapshot, type StatSnapshot } from "./fsx.ts";
import type { StatStamp } from "./stat-snapshot.ts";

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

const RACY_WINDOW_MS = Number(RACY_WINDOW_NS / 1_000_000n);

/**
 * stillTrusted for stamps, with the fact's time in whole milliseconds (Date.now()): the same
 * rule in plain numbers, exact (the differences it multiplies out are small).
 */
export function stampStillTrusted(stamp: StatStamp, computedAtMs: number, now: StatStamp): boolean {
  if (
    stamp.sizeLo !== now.sizeLo ||
    stamp.sizeHi !== now.sizeHi ||
    stamp.inoLo !== now.inoLo ||
    stamp.inoHi !== now.inoHi ||
    stamp.mtimeSec !== now.mtimeSec ||
    stamp.mtimeNsec !== now.mtimeNsec ||
    stamp.ctimeSec !== now.ctimeSec ||
    stamp.ctimeNsec !== now.ctimeNsec
  ) {
    return false;
  }
  const mNewer = now.mtimeSec > now.ctimeSec || (now.mtimeSec === now.ctimeSec && now.mtimeNsec > now.ctimeNsec);
  const sec = mNewer ? now.mtimeSec : now.ctimeSec;
  const nsec = mNewer ? now.mtimeNsec : now.ctimeNsec;
  const computedSec = Math.floor(computedAtMs / 1000);
  const computedNsec = (computedAtMs - computedSec * 1000) * 1_000_000;
  // (computed - newest change) in ns > window, with the seconds part kept small before scaling.
  const gapSec = computedSec - sec;
  if (gapSec > RACY_WINDOW_MS / 1000 + 1) return true;
  return gapSec * 1_000_000_000 + (computedNsec - nsec) > RACY_WINDOW_MS * 1_000_000;
}
