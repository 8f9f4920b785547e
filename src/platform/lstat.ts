// lstat(2) for the compile hot path: statx through libc costs nothing measurable at start-up,
// where loading node:fs costs about a millisecond and Bun.file().stat() follows symlinks.
// Where statx is unavailable (no glibc, old kernel) node:fs answers instead.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

export type LinkStat =
  | { readonly kind: "absent" }
  | { readonly kind: "found"; readonly type: "dir" | "symlink" | "other"; readonly uid: number; readonly mode: number }
  | { readonly kind: "error"; readonly detail: string };

export const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_TYPE_MODE_UID = 0x1 | 0x2 | 0x8;
const ENOENT = 2;
// struct statx has the same layout on every Linux architecture.
const STX_UID_OFFSET = 20;
export const STX_MODE_OFFSET = 28;
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function openLibc() {
  return dlopen("libc.so.6", {
    statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

let libc: ReturnType<typeof openLibc> | null | undefined;

/** libc's statx (and errno), or null where it cannot be loaded; opened once, shared. */
export function loadLibc(): ReturnType<typeof openLibc> | null {
  if (libc !== undefined) return libc;
  try {
    libc = openLibc();
  } catch {
    libc = null;
  }
  return libc;
}

function typeOf(mode: number): "dir" | "symlink" | "other" {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? "dir" : t === S_IFLNK ? "symlink" : "other";
}

function viaNodeFs(p: string): LinkStat {
  try {
    const fs = process.getBuiltinModule("node:fs");
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) return { kind: "absent" };
    return { kind: "found", type: typeOf(st.mode), uid: st.uid, mode: st.mode & 0o7777 };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return code === "ENOENT" ? { kind: "absent" } : { kind: "error", detail: String(code ?? e) };
  }
}

/** What sits at `p` itself, never following a final symlink. */
export function lstatPath(p: string): LinkStat {
  const c = loadLibc();
  if (c === null) return viaNodeFs(p);
  const buf = new Uint8Array(256);
  const name = new TextEncoder().encode(`${p}\0`);
  const r = c.statx(AT_FDCWD, ptr(name), AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_UID, ptr(buf));
  if (r !== 0) {
    const errnoPtr = c.__errno_location();
    const errno = errnoPtr === null ? -1 : read.i32(errnoPtr, 0);
    // ENOSYS/EPERM (seccomp) and friends: let node:fs decide instead of guessing.
    return errno === ENOENT ? { kind: "absent" } : viaNodeFs(p);
  }
  const dv = new DataView(buf.buffer);
  const mode = dv.getUint16(STX_MODE_OFFSET, true);
  return { kind: "found", type: typeOf(mode), uid: dv.getUint32(STX_UID_OFFSET, true), mode: mode & 0o7777 };
}
