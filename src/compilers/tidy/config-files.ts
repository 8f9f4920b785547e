// The configuration files an analysis reads besides its sources: `.clang-tidy` in the
// directory of each file and every parent up to the root, and IWYU mapping files with the
// files they pull in through `ref:`.
import * as fs from "node:fs";
import * as path from "node:path";
import { joinPhysical } from "../../platform/paths.ts";

export const CLANG_TIDY_CONFIG = ".clang-tidy";

/**
 * Every directory clang-tidy looks for `.clang-tidy` in for these files: each one's directory
 * and its parents, walked on the path as spelled (`lnk/..` stays, as the kernel resolves it
 * through the link, and as the tool walks it).
 */
export function configSearchDirs(files: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = path.dirname(f); !dirs.has(d); d = path.dirname(d)) {
      dirs.add(d);
      if (path.dirname(d) === d) break;
    }
  }
  return [...dirs];
}

/** The `.clang-tidy` candidate in `dir`, without normalising the directory's spelling. */
export function configCandidate(dir: string): string {
  return joinPhysical(dir, CLANG_TIDY_CONFIG);
}

/** `ref:` values in any YAML spelling IWYU accepts: quoted or not, with a quoted key or not. */
const REF = /["']?\bref["']?\s*:\s*(?:"([^"]+)"|'([^']+)'|([^\s,}\]#"']+))/g;

export interface MappingFiles {
  /** Every mapping file read, absolute. */
  readonly files: string[];
  /** Places IWYU looks first for a `ref:` that were empty: a file appearing there changes what it reads. */
  readonly absent: string[];
}

/**
 * The mapping files named on the command line and every file they reference, found as IWYU
 * finds them: relative to the working directory first, then to the referring file. Null when
 * a file cannot be read, a `ref` is written in a way this reading does not understand, or a
 * reference is not found (IWYU then goes on without it: not followed).
 */
export function mappingFileClosure(named: readonly string[], cwd: string): MappingFiles | null {
  const seen = new Set<string>();
  const absent = new Set<string>();
  const todo = named.map((n) => joinPhysical(cwd, n));
  while (todo.length > 0) {
    const p = todo.pop() as string;
    if (seen.has(p)) continue;
    seen.add(p);
    let text: string;
    try {
      text = fs.readFileSync(p, "utf8");
    } catch {
      return null;
    }
    const refs = [...text.matchAll(REF)].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
    if (refs.length !== (text.match(/\bref\b/g) ?? []).length) return null;
    for (const ref of refs) {
      const candidates = [joinPhysical(cwd, ref), joinPhysical(path.dirname(p), ref)];
      const found = candidates.find((c) => fs.statSync(c, { throwIfNoEntry: false })?.isFile() === true);
      if (found === undefined) return null;
      for (const c of candidates.slice(0, candidates.indexOf(found))) absent.add(c);
      todo.push(found);
    }
  }
  return { files: [...seen], absent: [...absent] };
}
