// Decides whether a stored entry still describes the inputs on disk, by stat and hash.
import type { StoredEntry } from "../store/store.ts";
import type { AbsenceChecker } from "./absence.ts";
import type { FileHashes } from "./file-hashes.ts";

export function entryStillValid(
  entry: StoredEntry,
  files: FileHashes,
  absent: (dir: string, names: readonly string[]) => boolean,
): boolean {
  for (const dep of entry.deps) {
    if (files.hash(dep.path) !== dep.hash) return false;
  }
  for (const [dir, names] of entry.absent) {
    if (!absent(dir, names)) return false;
  }
  return true;
}

/** The most recently used entry whose inputs all match, or null. */
export function findValidEntry(
  entries: readonly StoredEntry[],
  files: FileHashes,
  absence: AbsenceChecker,
): StoredEntry | null {
  if (entries.length === 0) return null;
  const absent = absence.pass();
  for (const e of entries) {
    if (entryStillValid(e, files, absent)) return e;
  }
  return null;
}
