// What a directory holds before and after a tool ran, to find the files the tool wrote
// besides the output it was asked for (limited to names a filter accepts).
import * as fs from "node:fs";
import * as path from "node:path";
import { sameSnapshot, type StatSnapshot, snapshotOf } from "../../platform/fsx.ts";

export type DirSnapshot = ReadonlyMap<string, StatSnapshot>;

/** Regular files in `dir` whose names `keep` accepts, with their stat. */
export function snapshotDir(dir: string, keep: (name: string) => boolean): DirSnapshot {
  const out = new Map<string, StatSnapshot>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!keep(name)) continue;
    const st = fs.lstatSync(path.join(dir, name), { bigint: true, throwIfNoEntry: false });
    if (st?.isFile()) out.set(name, snapshotOf(st));
  }
  return out;
}

/** Absolute paths of files that appeared or changed between two snapshots of `dir`. */
export function changedFiles(dir: string, before: DirSnapshot, after: DirSnapshot): string[] {
  const out: string[] = [];
  for (const [name, snap] of after) {
    const old = before.get(name);
    if (old === undefined || !sameSnapshot(old, snap)) out.push(path.join(dir, name));
  }
  return out.sort();
}
