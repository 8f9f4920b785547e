// What a Rust entry records beyond the common entry fields, and how it is validated:
// the environment variables the crate read (dep-info `# env-dep:`), sources stored
// relative to the working directory, and outputs by role rather than by path.
import * as path from "node:path";
import type { DepRecord, EntryRecord, StoredEntry } from "../../store/store.ts";
import type { AbsenceChecker } from "../absence.ts";
import type { FileHashes } from "../file-hashes.ts";
import { entryStillValid } from "../validate.ts";

/** A variable and the value the compile saw (null: unset). */
export type EnvDep = readonly [name: string, value: string | null];

/**
 * The common record plus `rustEnvDeps`. The local store keeps unknown fields of a record;
 * an entry read back without a well-formed list is never used (a miss, never a wrong hit).
 */
export interface RustEntryRecord extends Omit<EntryRecord, "outputs"> {
  readonly rustEnvDeps: readonly EnvDep[];
}

function envDepsOf(e: StoredEntry): readonly EnvDep[] | null {
  const v = (e as unknown as { rustEnvDeps?: unknown }).rustEnvDeps;
  if (!Array.isArray(v)) return null;
  for (const d of v) {
    if (!Array.isArray(d) || d.length !== 2 || typeof d[0] !== "string" || (d[1] !== null && typeof d[1] !== "string")) return null;
  }
  return v as EnvDep[];
}

/** Paths inside the cwd are stored relative to it, so a remapped copy of the tree can hit. */
export function storedPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return rel === "" ? "." : rel.startsWith("../") || rel === ".." || path.isAbsolute(rel) ? abs : rel;
}

function resolveDeps(deps: readonly DepRecord[], cwd: string): DepRecord[] {
  return deps.map((d) => (path.isAbsolute(d.path) ? d : { ...d, path: path.resolve(cwd, d.path) }));
}

export function rustEntryValid(
  e: StoredEntry,
  cwd: string,
  env: Readonly<Record<string, string>>,
  files: FileHashes,
  absent: (dir: string, names: readonly string[]) => boolean,
  roles: readonly string[],
): boolean {
  const envDeps = envDepsOf(e);
  if (envDeps === null) return false;
  for (const [name, value] of envDeps) if ((env[name] ?? null) !== value) return false;
  for (const role of roles) if (!e.outputs.some((o) => o.role === role)) return false;
  const resolved: StoredEntry = {
    ...e,
    deps: resolveDeps(e.deps, cwd),
    absent: e.absent.map(([dir, names]) => [path.resolve(cwd, dir), names] as const),
  };
  return entryStillValid(resolved, files, absent);
}

/** The most recently used valid entry, or null. */
export function findRustEntry(
  entries: readonly StoredEntry[],
  cwd: string,
  env: Readonly<Record<string, string>>,
  files: FileHashes,
  absence: AbsenceChecker,
  roles: readonly string[],
): StoredEntry | null {
  if (entries.length === 0) return null;
  const absent = absence.pass();
  for (const e of entries) if (rustEntryValid(e, cwd, env, files, absent, roles)) return e;
  return null;
}
