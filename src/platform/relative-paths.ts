// Paths recorded in keys and entries so that a second checkout can use them: relative to the
// working directory where they were spelled under it, or under a base directory.
import * as fs from "node:fs";
import * as path from "node:path";
import { joinPhysical } from "./paths.ts";

/** Marks a path that was absolute under a base dir and is now relative to the cwd (lexically). */
export const BASE_RELATIVE = "\u0000base:";

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * `p` relative to `cwd` when it is an absolute path under a base dir; else null. Only the
 * normalised head of `p` is rewritten: from the first "." or ".." segment on, the rest is kept
 * as written ("d/sym/../x.h" goes through the link, which a lexical path would not).
 */
/** Separates the cwd-relative head of a base-relative path from the tail kept as written. */
const REST = "\u0001";

export function relativeToCwd(p: string, cwd: string, baseDirs: readonly string[]): string | null {
  if (!p.startsWith("/") || !cwd.startsWith("/") || baseDirs.length === 0) return null;
  // A trailing "/" (a directory's listing) is kept as it is.
  const slash = p.length > 1 && p.endsWith("/") ? "/" : "";
  const segments = (slash === "" ? p : p.slice(0, -1)).split("/");
  let k = 1;
  while (k < segments.length && segments[k] !== "." && segments[k] !== ".." && segments[k] !== "") k++;
  const head = segments.slice(0, k).join("/") || "/";
  if (!baseDirs.some((b) => under(head, b))) return null;
  const rel = path.relative(cwd, head) || ".";
  return (k < segments.length ? `${rel}${REST}${segments.slice(k).join("/")}` : rel) + slash;
}

/**
 * The path a base-relative one names from `cwd`, spelled as the compile would: the clean head
 * ("../..", then plain names) joined to the cwd, the rest appended as it was written.
 */
export function fromCwd(rel: string, cwd: string): string {
  const sep = rel.indexOf(REST);
  const head = path.join(cwd, sep < 0 ? rel : rel.slice(0, sep));
  return sep < 0 ? head : `${head === "/" ? "" : head}/${rel.slice(sep + 1)}`;
}

/**
 * How an absolute input path (as the compile reached it, ".." kept) is recorded: below the cwd
 * as the rest of its spelling (resolved again the way the kernel does), under a base dir
 * relative to the cwd, else as it is.
 */
export function encodePath(abs: string, cwd: string, baseDirs: readonly string[]): string {
  if (abs === cwd) return ".";
  if (cwd !== "/" && abs.startsWith(`${cwd}/`)) return abs.slice(cwd.length + 1) || "./";
  const rel = relativeToCwd(abs, cwd, baseDirs);
  return rel === null ? abs : BASE_RELATIVE + rel;
}

/** The absolute path a recorded one names in `cwd`. */
export function decodePath(stored: string, cwd: string): string {
  if (stored.startsWith("/")) return stored;
  // A trailing "/" names a directory's listing (file-hashes.ts): it must survive the join.
  const slash = stored.endsWith("/") ? "/" : "";
  if (stored.startsWith(BASE_RELATIVE)) return fromCwd(stored.slice(BASE_RELATIVE.length), cwd).replace(/\/?$/, slash);
  return joinPhysical(cwd, stored) + slash;
}

/** The base dir that holds `cwd` (the deepest one), or null. */
export function baseOf(cwd: string, baseDirs: readonly string[]): string | null {
  let best: string | null = null;
  for (const b of baseDirs) if (under(cwd, b) && (best === null || b.length > best.length)) best = b;
  return best;
}

/**
 * The prefix maps of ZCCACHE_PATH_REMAP: the cwd and each of its ancestors up to the base dir
 * that holds it, each mapped to its path relative to the cwd, shortest first. A path under
 * the base is then recorded relative to the cwd, as the portable key writes it. Without a
 * base dir holding the cwd, the cwd alone is mapped to ".".
 */
export function remapPairs(cwd: string, baseDirs: readonly string[]): [from: string, to: string][] {
  if (!cwd.startsWith("/")) return [];
  const base = baseOf(cwd, baseDirs) ?? cwd;
  const dirs: string[] = [];
  for (let d = cwd; ; d = path.dirname(d)) {
    dirs.push(d);
    if (d === base || d === "/") break;
  }
  return dirs.reverse().map((d) => [d, path.relative(cwd, d) || "."]);
}

/**
 * The working directory as gcc and clang record it (DW_AT_comp_dir, prefix maps): `$PWD` when
 * it is absolute and names the same directory as the physical cwd (entered through a
 * symlink), else the physical cwd itself.
 */
export function compilerCwd(cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  const pwd = env.PWD;
  if (pwd === undefined || pwd === cwd || !pwd.startsWith("/")) return cwd;
  try {
    const a = fs.statSync(pwd);
    const b = fs.statSync(cwd);
    return a.dev === b.dev && a.ino === b.ino ? pwd : cwd;
  } catch {
    return cwd;
  }
}
