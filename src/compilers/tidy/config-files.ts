// The configuration files an analysis reads besides its sources: `.clang-tidy` in the
// directory of each file and every parent up to the root, and IWYU mapping files with the
// files they pull in through `ref:`.
import * as fs from "node:fs";
import * as path from "node:path";

export const CLANG_TIDY_CONFIG = ".clang-tidy";

/** Every directory clang-tidy looks for `.clang-tidy` in for these files: each one's directory and its parents. */
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

const REF = /\bref\s*:\s*["']([^"']+)["']/g;

/**
 * The mapping files named on the command line (relative to the cwd) and every file they
 * reference (relative to the referencing file), absolute. Null when one cannot be read or
 * a reference is not found next to its referrer (IWYU would search further: not followed).
 */
export function mappingFileClosure(named: readonly string[], cwd: string): string[] | null {
  const seen = new Set<string>();
  const todo = named.map((n) => path.resolve(cwd, n));
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
    for (const m of text.matchAll(REF)) {
      const ref = path.resolve(path.dirname(p), m[1] as string);
      if (!fs.statSync(ref, { throwIfNoEntry: false })?.isFile()) return null;
      todo.push(ref);
    }
  }
  return [...seen];
}
