// Finding the real compiler on PATH without finding ourselves again, and the environment
// marker that stops a zccache started by a compiler we ran from starting another round.
// Without both, `gcc -> zccache` ahead of /usr/lib/ccache (or ahead of a second copy of
// zccache) makes each wrapper run the other until the machine runs out of processes.
// Used by the client's fallback and the daemon's resolution alike: one rule.
import * as fs from "node:fs";
import * as path from "node:path";
import { regularFileStamp } from "./stat-snapshot.ts";

/**
 * Set on every compiler zccache runs. Value: comma-separated `dev:ino:size` (decimal, as
 * stat(2) reports them) of the zccache executables on the call chain. Any non-empty value
 * means "re-entered": go straight to the real compiler.
 */
export const REENTERED_ENV = "ZCCACHE_REENTERED";
/** Bounds the marker however deep an unforeseen chain goes. */
const MAX_MARKER_IDS = 16;
const COMPARE_CHUNK_BYTES = 1 << 20;

type Env = Readonly<Record<string, string | undefined>>;

/** `dev:ino:size` of the file `p` resolves to, or null. */
export function fileIdentity(p: string): string | null {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}:${st.size}`;
  } catch {
    return null;
  }
}

export function isReentered(env: Env): boolean {
  return (env[REENTERED_ENV] ?? "") !== "";
}

/** `env` plus the marker, naming `selfExe` as one more zccache on the chain. */
export function withReentryMarker(env: Env, selfExe: string = process.execPath): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const ids = (env[REENTERED_ENV] ?? "").split(",").filter((s) => s !== "");
  const self = fileIdentity(selfExe) ?? "0:0:0";
  if (!ids.includes(self)) ids.push(self);
  out[REENTERED_ENV] = ids.slice(-MAX_MARKER_IDS).join(",");
  return out;
}

/** ccache's own test (`is_ccache_executable`) on the resolved name, extended to sccache. */
export function isCacheWrapperName(realBase: string): boolean {
  return /^s?ccache(?:[-.].*)?$/.test(realBase);
}

export interface SkipRule {
  /** `dev:ino` of every known zccache executable (hard links share them). */
  readonly ids: ReadonlySet<string>;
  /** Our own executables, to recognise byte copies of them. */
  readonly selves: readonly { readonly path: string; readonly size: number }[];
  /** Whether ccache/sccache masquerade links count as wrappers, not compilers. */
  readonly skipCacheWrappers: boolean;
}

export function skipRuleFor(selfExes: readonly string[], env: Env, skipCacheWrappers = true): SkipRule {
  const ids = new Set<string>();
  const selves: { path: string; size: number }[] = [];
  for (const id of (env[REENTERED_ENV] ?? "").split(",")) {
    const [dev, ino] = id.split(":");
    if (dev && ino) ids.add(`${dev}:${ino}`);
  }
  for (const exe of selfExes) {
    try {
      const st = fs.statSync(exe, { throwIfNoEntry: false });
      if (st === undefined) continue;
      ids.add(`${st.dev}:${st.ino}`);
      if (!selves.some((s) => s.path === exe)) selves.push({ path: exe, size: st.size });
    } catch {
      // an executable that is gone cannot be on PATH either
    }
  }
  return { ids, selves, skipCacheWrappers };
}

// Byte comparisons of same-size candidates, by the candidate's identity and mtime.
const sameBytesMemo = new Map<string, boolean>();

function sameBytes(a: string, b: string, size: number): boolean {
  let fa: number | null = null;
  let fb: number | null = null;
  try {
    fa = fs.openSync(a, "r");
    fb = fs.openSync(b, "r");
    const ba = Buffer.alloc(COMPARE_CHUNK_BYTES);
    const bb = Buffer.alloc(COMPARE_CHUNK_BYTES);
    for (let off = 0; off < size; off += COMPARE_CHUNK_BYTES) {
      const na = fs.readSync(fa, ba, 0, COMPARE_CHUNK_BYTES, off);
      const nb = fs.readSync(fb, bb, 0, COMPARE_CHUNK_BYTES, off);
      if (na !== nb || na === 0 || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fa !== null) fs.closeSync(fa);
    if (fb !== null) fs.closeSync(fb);
  }
}

/** Whether running `candidate` would start zccache (or a compiler cache) rather than a compiler. */
export function isWrapper(candidate: string, rule: SkipRule): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(candidate);
  } catch {
    return false;
  }
  if (rule.ids.has(`${st.dev}:${st.ino}`)) return true;
  if (rule.skipCacheWrappers) {
    try {
      if (isCacheWrapperName(path.basename(fs.realpathSync(candidate)))) return true;
    } catch {
      return false;
    }
  }
  for (const self of rule.selves) {
    if (self.size !== st.size) continue;
    const key = `${st.dev}:${st.ino}:${st.mtimeMs}|${self.path}`;
    let same = sameBytesMemo.get(key);
    if (same === undefined) {
      same = sameBytes(candidate, self.path, st.size);
      sameBytesMemo.set(key, same);
    }
    if (same) return true;
  }
  return false;
}

function isExecutableFile(p: string): boolean {
  // Most PATH entries lack the name: one statx through libc answers those (node:fs's stat
  // costs two system calls and a Stats object for a missing name). The daemon resolves the
  // compiler and its assembler this way on every request.
  if (regularFileStamp(p) === null) return false;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `name` the way execvp would, passing over whatever `rule` calls a wrapper. */
export function findCompiler(name: string, cwd: string, pathVar: string, rule: SkipRule | null): string | null {
  if (name.includes("/")) {
    const p = path.resolve(cwd, name);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of pathVar.split(":")) {
    const candidate = path.resolve(cwd, dir === "" ? "." : dir, name);
    if (!isExecutableFile(candidate)) continue;
    if (rule !== null && isWrapper(candidate, rule)) continue;
    return candidate;
  }
  return null;
}
