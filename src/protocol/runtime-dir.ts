// Which directory holds the daemon's socket and lock. Client and daemon both choose with
// this one function, so they meet at the same socket. A candidate is used only when it is a
// real directory (lstat: never a symlink) that we own with no group/other bits, or when it
// does not exist yet (the first user creates it 0700 and checks it again). Nothing here or
// in its callers ever chmods or deletes what it finds: a bad candidate is passed over.
import { type LinkStat, lstatPath } from "../platform/lstat.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** sun_path holds 108 bytes including the NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** "/<20 hex>.sock" after the directory. */
const SOCKET_SUFFIX_BYTES = 26;

export type DirVerdict = { readonly kind: "private" } | { readonly kind: "absent" } | { readonly kind: "refused"; readonly why: string };

export interface RuntimeDirChoice {
  readonly dir: string;
  /** Candidates passed over before `dir`, with why; empty on the ordinary path. */
  readonly refused: readonly { readonly dir: string; readonly why: string }[];
  /** False when every candidate was refused: `dir` is then the first one, unusable. */
  readonly usable: boolean;
}

/** The one trust rule for a runtime dir, applied to an lstat result. */
export function judgeDir(st: LinkStat, uid: number): DirVerdict {
  if (st.kind === "absent") return { kind: "absent" };
  if (st.kind === "error") return { kind: "refused", why: `cannot inspect it (${st.detail})` };
  if (st.type === "symlink") return { kind: "refused", why: "it is a symbolic link" };
  if (st.type !== "dir") return { kind: "refused", why: "it is not a directory" };
  if (st.uid !== uid) return { kind: "refused", why: `it belongs to uid ${st.uid}` };
  if ((st.mode & 0o077) !== 0) return { kind: "refused", why: `its mode ${(st.mode & 0o777).toString(8)} lets others in` };
  return { kind: "private" };
}

// The answer for each path, so that the client's later trust check costs no second lstat.
const seen = new Map<string, DirVerdict>();

export function inspectDir(dir: string, uid: number): DirVerdict {
  const v = judgeDir(lstatPath(dir), uid);
  seen.set(dir, v);
  return v;
}

/** The verdict this process reached for `dir` while choosing, if it looked at it. */
export function rememberedVerdict(dir: string): DirVerdict | undefined {
  return seen.get(dir);
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Where to look, in order: the configured (or /tmp) dir, then private fallbacks. */
export function runtimeDirCandidates(env: Env, cacheRoot: string, uid: number): string[] {
  const out = [env.ZCCACHE_RUNTIME_DIR || `/tmp/zccache-${uid}`];
  const xdg = env.XDG_RUNTIME_DIR;
  // $XDG_RUNTIME_DIR must itself be private before anything inside it is worth trusting.
  if (xdg?.startsWith("/") && inspectDir(xdg, uid).kind === "private") out.push(`${xdg.replace(/\/+$/, "")}/zccache`);
  out.push(`${cacheRoot.replace(/\/+$/, "")}/run`);
  return out;
}

export function chooseRuntimeDir(env: Env, cacheRoot: string, uid: number): RuntimeDirChoice {
  const refused: { dir: string; why: string }[] = [];
  const primary = env.ZCCACHE_RUNTIME_DIR || `/tmp/zccache-${uid}`;
  let candidates: string[] = [primary];
  for (let i = 0; i < candidates.length; i++) {
    const dir = candidates[i] as string;
    if (byteLength(dir) + SOCKET_SUFFIX_BYTES > MAX_SOCKET_PATH_BYTES) {
      refused.push({ dir, why: "a socket path under it would be too long" });
    } else {
      const v = inspectDir(dir, uid);
      if (v.kind !== "refused") return { dir, refused, usable: true };
      refused.push({ dir, why: v.why });
    }
    // Fallbacks are only looked up when the ordinary location is refused.
    if (i === 0) candidates = runtimeDirCandidates(env, cacheRoot, uid);
  }
  return { dir: primary, refused, usable: false };
}

export interface DirFs {
  mkdirSync(p: string, opts: { recursive: boolean; mode: number }): unknown;
}

/**
 * Makes `dir` exist as a private directory of ours: created 0700 when absent (parents as
 * needed), then checked again with lstat, since someone may have raced us to the name.
 */
export function ensurePrivateRuntimeDir(dir: string, uid: number, fs: DirFs): DirVerdict {
  const before = inspectDir(dir, uid);
  if (before.kind !== "absent") return before;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return { kind: "refused", why: `cannot create it (${(e as { code?: unknown }).code ?? String(e)})` };
  }
  const after = inspectDir(dir, uid);
  return after.kind === "absent" ? { kind: "refused", why: "it vanished after creation" } : after;
}
