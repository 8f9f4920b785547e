// What a Rust entry records beyond the common entry fields, and what a hit checks beyond the
// common rules: the environment variables the crate read (dep-info `# env-dep:`), sources
// stored relative to the working directory, and outputs by role rather than by path.
import * as path from "node:path";
import { encodePath } from "../../platform/relative-paths.ts";
import type { EntryRecord, StoredEntry } from "../../store/store.ts";

/** A variable and the value the compile saw (null: unset). */
export type EnvDep = readonly [name: string, value: string | null];

/**
 * The common record plus `rustEnvDeps`. The local store keeps unknown fields of a record;
 * an entry read back without a well-formed list is never used (a miss, never a wrong hit).
 */
export interface RustEntryRecord extends Omit<EntryRecord, "outputs"> {
  readonly rustEnvDeps: readonly EnvDep[];
  /** Set when the entry may serve only this cwd (see miss.ts). */
  readonly rustBoundCwd?: string;
}

function envDepsOf(e: StoredEntry): readonly EnvDep[] | null {
  const v = (e as unknown as { rustEnvDeps?: unknown }).rustEnvDeps;
  if (!Array.isArray(v)) return null;
  for (const d of v) {
    if (!Array.isArray(d) || d.length !== 2 || typeof d[0] !== "string" || (d[1] !== null && typeof d[1] !== "string")) return null;
  }
  return v as EnvDep[];
}

/**
 * Paths inside the cwd are stored relative to it, and ones under a base dir relative to the
 * cwd (platform/relative-paths.ts), so a remapped copy of the tree can hit.
 */
export function storedPath(abs: string, cwd: string, baseDirs: readonly string[] = []): string {
  return encodePath(path.normalize(abs), cwd, baseDirs);
}

/**
 * What a Rust entry needs beyond the common checks (serve/validate.ts, which resolves its
 * cwd-relative paths): the environment the crate read is unchanged, and it has an output
 * for every role this invocation writes.
 */
export function rustEntryAccepts(e: StoredEntry, cwd: string, env: Readonly<Record<string, string>>, roles: readonly string[]): boolean {
  // An entry that read a file outside its tree by absolute path serves only its own cwd.
  const bound = (e as StoredEntry & { rustBoundCwd?: unknown }).rustBoundCwd;
  if (bound !== undefined && bound !== cwd) return false;
  const envDeps = envDepsOf(e);
  if (envDeps === null) return false;
  for (const [name, value] of envDeps) if ((env[name] ?? null) !== value) return false;
  for (const role of roles) if (!e.outputs.some((o) => o.role === role)) return false;
  return true;
}
