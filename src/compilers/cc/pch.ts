// Precompiled headers the compiler picks up without being asked. gcc looks for `X.gch` (a
// file, or a directory of candidates) in each search directory just before `X`, for an
// include of the main file or an -include, and the depfile then names neither X nor the
// .gch. clang's driver turns `-include X` into `-include-pch X.pch` (or X.gch) when that
// file exists next to X as written. These helpers name every path that may matter.
import * as path from "node:path";
import { withoutOutputOptions } from "./plan.ts";

const STRICT_INCLUDE = /^[ \t]*#[ \t]*(?:include|include_next|import)[ \t]*(["<])([^">\n]*)([">])/;
const LOOSE_INCLUDE = /#.*\b(?:include|include_next|import)\b/;

export interface IncludeSpellings {
  /** The names as written between quotes or angle brackets. */
  readonly spelled: readonly string[];
  /**
   * Some directive may name a file in a way this scan cannot read (a macro, a comment or a
   * line continuation inside the directive): then only the compiler can say what it used.
   */
  readonly unreadable: boolean;
}

/** The include spellings of a source file: a PCH can only replace one of these. */
export function includeSpellings(source: string): IncludeSpellings {
  const spelled = new Set<string>();
  let unreadable = false;
  const joined = source.replace(/\\\r?\n/g, "");
  for (const line of joined.split("\n")) {
    if (!line.includes("include") && !line.includes("import")) continue;
    const m = STRICT_INCLUDE.exec(line);
    if (m !== null && ((m[1] === '"' && m[3] === '"') || (m[1] === "<" && m[3] === ">")) && m[2] !== "") spelled.add(m[2] as string);
    else if (LOOSE_INCLUDE.test(line)) unreadable = true;
  }
  return { spelled: [...spelled], unreadable };
}

/** Every path the compiler may try for each spelling, in the given directories. */
export function searchCandidates(spellings: readonly string[], dirs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of spellings) {
    if (x.startsWith("/")) out.add(x);
    else for (const d of dirs) out.add(`${d}/${x}`);
  }
  return [...out];
}

/** Where gcc may look for `X.gch` for each spelling: every directory it may search for X. */
export function gchCandidates(spellings: readonly string[], dirs: readonly string[]): string[] {
  return searchCandidates(spellings, dirs).map((p) => `${p}.gch`);
}

/** The -include and -imacros values, in order. */
export function forcedIncludes(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] === "-include" || args[i] === "-imacros") out.push(args[i + 1] as string);
  }
  return out;
}

/** The files clang's driver would use in place of `-include X`, relative to the cwd as written. */
export function clangImplicitPch(args: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] !== "-include") continue;
    const x = path.resolve(cwd, args[i + 1] as string);
    out.push(`${x}.pch`, `${x}.gch`);
  }
  return out;
}

/** The .gch files a `gcc -H` trace says were used (`!`) or rejected (`x`). */
export function parsePchTrace(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^[!x] (.+)$/.exec(line);
    if (m !== null) out.push(m[1] as string);
  }
  return out;
}

/** A preprocessing run that uses PCHs like the compile does and prints which ones (-H). */
export function pchTraceArgs(args: readonly string[]): string[] {
  const out = withoutOutputOptions(args);
  return [...out, "-E", "-fpch-preprocess", "-H", "-o", "/dev/null"];
}

const HAS_INCLUDE = /__has_include(?:_next)?\s*\(\s*(["<]?)([^">)\n]*)([">]?)\s*\)/g;

/**
 * The names a file tests with `__has_include`: a file absent at compile time is named by no
 * depfile, yet appearing later changes the result. Null when the file has none; a name
 * built by a macro makes `unreadable` true.
 */
export function hasIncludeSpellings(buf: Buffer): IncludeSpellings | null {
  if (!buf.includes("__has_include")) return null;
  const spelled = new Set<string>();
  let unreadable = false;
  const text = buf.toString("latin1");
  for (const m of text.matchAll(HAS_INCLUDE)) {
    // `#define __has_include(...) 0` (libc++'s fallback) tests nothing.
    if (/#\s*define\s+$/.test(text.slice(Math.max(0, m.index - 40), m.index))) continue;
    const ok = (m[1] === '"' && m[3] === '"') || (m[1] === "<" && m[3] === ">");
    if (ok && m[2] !== "") spelled.add(m[2] as string);
    else unreadable = true;
  }
  return spelled.size === 0 && !unreadable ? null : { spelled: [...spelled], unreadable };
}
