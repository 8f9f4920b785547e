// Proves that paths still do not exist (a new header that would shadow an old one).
// Probes are grouped by directory: a directory whose stat is unchanged since we saw a name
// missing in it cannot have gained that name, so one stat answers for all its probes;
// otherwise we stat each path itself. Most probed directories do not exist at all (every
// include dir joined with "bits", "sys", …): one of those is answered by the nearest
// directory above it that does exist, whose stat, unchanged since we saw the first missing
// component missing in it, proves the whole chain below still absent.
import * as fs from "node:fs";
import * as path from "node:path";
import type { StatSnapshot } from "../platform/fsx.ts";
import { stillTrusted } from "../platform/stat-trust.ts";
import { directorySnapshot } from "../platform/stat-snapshot.ts";

const MAX_DIRS = 100_000;

/** Probes as stored: a directory and the names that must not exist in it. */
export type AbsentGroup = readonly [dir: string, names: readonly string[]];

interface DirMemo {
  readonly snapshot: StatSnapshot;
  readonly verifiedAtNs: bigint;
  readonly absent: Set<string>;
}

/**
 * "absent": no such name. "inert": a name the compiler's include search passes over (a
 * dangling symlink, a directory). "present": a file the compiler would open.
 */
export type ProbeState = "absent" | "inert" | "present";

export function probeState(p: string): ProbeState {
  if (fs.lstatSync(p, { throwIfNoEntry: false }) === undefined) return "absent";
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (st === undefined) return "inert";
  // gcc reads a directory of precompiled headers named X.gch; clang's driver takes any X.pch.
  return st.isDirectory() && !PCH_NAME.test(p) ? "inert" : "present";
}

const PCH_NAME = /\.(gch|pch)$/;

export function groupByDirectory(paths: readonly string[]): AbsentGroup[] {
  const byDir = new Map<string, string[]>();
  for (const p of paths) {
    const dir = path.dirname(p);
    let names = byDir.get(dir);
    if (names === undefined) {
      names = [];
      byDir.set(dir, names);
    }
    names.push(path.basename(p));
  }
  return [...byDir];
}

/** A missing directory, answered by the nearest existing one above it: `parent/name` is absent. */
interface MissingVia {
  readonly parent: string;
  readonly name: string;
}

/** How far above a missing directory we look for one that exists before giving up. */
const MAX_ANCESTORS = 8;

/** lstat says nothing at all is at `p` (a symlink, dangling or not, is something). */
function nothingAt(p: string): boolean {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) === undefined;
  } catch {
    // EACCES, ENOTDIR, …: unknown, so nothing is memoised
    return false;
  }
}

export class AbsenceChecker {
  private readonly dirs = new Map<string, DirMemo>();
  private readonly missing = new Map<string, MissingVia>();
  /** Directory stats taken so far (a test reads it to see which path answered). */
  dirStats = 0;

  /** The memo for `dir` if its stat `st` (taken in this pass) still vouches for it. */
  private trusted(dir: string, st: StatSnapshot): DirMemo | undefined {
    const known = this.dirs.get(dir);
    return known !== undefined && stillTrusted(known.snapshot, known.verifiedAtNs, st) ? known : undefined;
  }

  /** Records `name` as absent from `dir`, whose stat `st` was taken before the name was found missing. */
  private remember(dir: string, st: StatSnapshot, memo: DirMemo | undefined, name: string): DirMemo {
    let m = memo;
    if (m === undefined) {
      m = { snapshot: st, verifiedAtNs: BigInt(Date.now()) * 1_000_000n, absent: new Set() };
      if (this.dirs.size >= MAX_DIRS) this.dirs.clear();
      this.dirs.set(dir, m);
    }
    m.absent.add(name);
    return m;
  }

  /**
   * `dir` was just found missing: find the nearest existing directory above it and, when the
   * component below that is absent (not a dangling symlink, not unreadable), memoise that
   * fact under the ancestor's stat, taken before the lstat that found the component missing.
   */
  private learnMissing(dir: string, dirStat: (d: string) => StatSnapshot | null): void {
    let child = dir;
    for (let i = 0; i < MAX_ANCESTORS; i++) {
      const parent = path.dirname(child);
      const name = path.basename(child);
      // ".." or "." would not make the chain below depend on `parent` alone.
      if (parent === child || name === "" || name === "." || name === "..") return;
      const st = dirStat(parent);
      if (st === null) {
        child = parent;
        continue;
      }
      if (!nothingAt(`${parent}/${name}`)) return;
      this.remember(parent, st, this.trusted(parent, st), name);
      if (this.missing.size >= MAX_DIRS) this.missing.clear();
      this.missing.set(dir, { parent, name });
      return;
    }
  }

  /** One validation pass: each directory is stat'ed at most once in it. */
  pass(): (dir: string, names: readonly string[]) => boolean {
    const seen = new Map<string, ProbeState>();
    // Stats taken earlier in this pass are "now" for it: a pass validates one request.
    const stats = new Map<string, StatSnapshot | null>();
    const dirStat = (d: string): StatSnapshot | null => {
      let st = stats.get(d);
      if (st === undefined) {
        st = directorySnapshot(d);
        this.dirStats++;
        stats.set(d, st);
      }
      return st;
    };
    return (dir: string, names: readonly string[]): boolean => {
      const via = this.missing.get(dir);
      if (via !== undefined) {
        const pst = dirStat(via.parent);
        if (pst !== null && this.trusted(via.parent, pst)?.absent.has(via.name) === true) return true;
      }
      const st = dirStat(dir);
      // No such directory (or not a directory): nothing can exist below it.
      if (st === null) {
        this.learnMissing(dir, dirStat);
        return true;
      }
      let memo = this.trusted(dir, st);
      for (const name of names) {
        if (memo?.absent.has(name)) continue;
        const key = `${dir}/${name}`;
        let state = seen.get(key);
        if (state === undefined) {
          state = probeState(key);
          seen.set(key, state);
        }
        if (state === "present") return false;
        // A dangling symlink or a directory is skipped by the compiler's search too, but it
        // can start to resolve without its directory changing: never memoise those.
        if (state === "inert") continue;
        memo = this.remember(dir, st, memo, name);
      }
      return true;
    };
  }
}
