// Permission bits for what the daemon creates under a cache root. The journal and the index
// hold whole command lines (-DTOKEN=…), so a root we create is private to its owner; a root
// that already existed open to its group or others was shared on purpose, and the umask rules.
import * as fs from "node:fs";

export interface RootModes {
  /** True when the root is private: nothing under it gets group or other bits. */
  readonly private: boolean;
  /** For mkdir; undefined = the default (0777 minus the umask). */
  readonly dir: number | undefined;
  /** For files we create; undefined = the default (0666 minus the umask). */
  readonly file: number | undefined;
  /** Blobs are read-only so a hardlinked output cannot be edited in place by its owner. */
  readonly blob: number;
}

const PRIVATE_MODES: RootModes = { private: true, dir: 0o700, file: 0o600, blob: 0o400 };
const SHARED_MODES: RootModes = { private: false, dir: undefined, file: undefined, blob: 0o444 };

/**
 * Creates the root 0700 when it is absent and says which modes apply under it. An existing
 * root is never chmod-ed: it is the user's, and its own bits say whether it is shared.
 */
export function prepareRoot(root: string): RootModes {
  if (fs.statSync(root, { throwIfNoEntry: false }) === undefined) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  }
  const st = fs.statSync(root);
  if (!st.isDirectory()) throw new Error(`${root} is not a directory`);
  return (st.mode & 0o077) === 0 ? PRIVATE_MODES : SHARED_MODES;
}

/** Creates an empty file with `mode` unless it exists, so SQLite (and its -wal/-shm) inherit it. */
export function precreate(file: string, mode: number | undefined): void {
  if (mode === undefined) return;
  fs.closeSync(fs.openSync(file, "a", mode));
}
