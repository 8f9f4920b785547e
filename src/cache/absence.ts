// Proves that paths still do not exist (a new header that would shadow an old one).
// Probes are grouped by directory: a directory whose stat is unchanged since we saw a name
// missing in it cannot have gained that name, so one stat answers for all its probes;
// otherwise we stat each path itself.
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

export class AbsenceChecker {
  private readonly dirs = new Map<string, DirMemo>();

  /** One validation pass: each directory is stat'ed at most once in it. */
  pass(): (dir: string, names: readonly string[]) => boolean {
    const seen = new Map<string, ProbeState>();
    return (dir: string, names: readonly string[]): boolean => {
      const st = directorySnapshot(dir);
      // No such directory (or not a directory): nothing can exist below it.
      if (st === null) return true;
      const known = this.dirs.get(dir);
      let memo = known !== undefined && stillTrusted(known.snapshot, known.verifiedAtNs, st) ? known : undefined;
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
        if (memo === undefined) {
          memo = { snapshot: st, verifiedAtNs: BigInt(Date.now()) * 1_000_000n, absent: new Set() };
          if (this.dirs.size >= MAX_DIRS) this.dirs.clear();
          this.dirs.set(dir, memo);
        }
        memo.absent.add(name);
      }
      return true;
    };
  }
}
