// Decides whether a stored entry still describes the inputs on disk, by stat and hash. The
// one place recorded paths are read: through a resolver, so entries may hold paths relative
// to a working or base directory.
import { decodePath } from "../platform/relative-paths.ts";
import type { EntryRecord } from "../store/store.ts";
import type { PathResolver, ValidationServices } from "./adapter.ts";

/** Recorded paths as this tree names them (platform/relative-paths.ts: decodePath). */
export function resolverFor(cwd: string): PathResolver {
  return (recorded) => decodePath(recorded, cwd);
}

export function entryStillValid(
  entry: EntryRecord,
  resolve: PathResolver,
  files: ValidationServices["files"],
  absent: (dir: string, names: readonly string[]) => boolean,
): boolean {
  for (const dep of entry.deps) {
    if (files.hash(resolve(dep.path)) !== dep.hash) return false;
  }
  for (const [dir, names] of entry.absent) {
    if (!absent(resolve(dir), names)) return false;
  }
  return true;
}

/** The first (most recently used) entry the family accepts and whose inputs all match, or null. */
export function findValidEntry<E extends EntryRecord>(
  entries: readonly E[],
  resolve: PathResolver,
  accepts: (entry: E) => boolean,
  services: ValidationServices,
): E | null {
  if (entries.length === 0) return null;
  const absent = services.absence.pass();
  for (const e of entries) {
    if (accepts(e) && entryStillValid(e, resolve, services.files, absent)) return e;
  }
  return null;
}
