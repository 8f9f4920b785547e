// Paths recorded in keys and entries so that a second checkout can use them: relative to the
// working directory where they were spelled under it, or under a base directory.
import * as path from "node:path";
import { joinPhysical } from "./paths.ts";

/** Marks a path that was absolute under a base dir and is now relative to the cwd (lexically). */
export const BASE_RELATIVE = "\u0000base:";

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** `p` relative to `cwd` when it is an absolute, normalised path under a base dir; else null. */
export function relativeToCwd(p: string, cwd: string, baseDirs: readonly string[]): string | null {
  if (!p.startsWith("/") || !cwd.startsWith("/") || baseDirs.length === 0) return null;
  // Only normalised spellings: "x/sym/../y" goes through the symlink, which a lexical
  // relative path would not reproduce.
  if (path.normalize(p) !== p) return null;
  if (!baseDirs.some((b) => under(p, b))) return null;
  const rel = path.relative(cwd, p) || ".";
  return p.endsWith("/") && p !== "/" ? `${rel}/` : rel;
}

/**
 * How an absolute input path (as the compile reached it, ".." kept) is recorded: below the cwd
 * as the rest of its spelling (resolved again the way the kernel does), under a base dir
 * relative to the cwd, else as it is.
 */
export function encodePath(abs: string, cwd: string, baseDirs: readonly string[]): string {
  if (cwd !== "/" && abs.startsWith(`${cwd}/`)) return abs.slice(cwd.length + 1);
  const rel = relativeToCwd(abs, cwd, baseDirs);
  return rel === null ? abs : BASE_RELATIVE + rel;
}

/** The absolute path a recorded one names in `cwd`. */
export function decodePath(stored: string, cwd: string): string {
  if (stored.startsWith("/")) return stored;
  if (stored.startsWith(BASE_RELATIVE)) return path.join(cwd, stored.slice(BASE_RELATIVE.length));
  return joinPhysical(cwd, stored);
}
