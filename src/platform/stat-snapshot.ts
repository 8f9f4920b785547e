// stat(2) of a regular file or directory as a StatSnapshot, for the daemon's hit path: every
// recorded header and probed directory is stat'ed on every hit, and statx through libc costs
// about a third less than node:fs's bigint stat (no Stats object). Falls back to node:fs
// where statx is unavailable. A header's stat is also available as a StatStamp of plain
// numbers: comparing one costs less than building the BigInts of a snapshot, and a hit
// compares ~200 of them.
import * as fs from "node:fs";
import { ptr } from "bun:ffi";
import { type StatSnapshot, snapshotOf } from "./fsx.ts";
import { AT_FDCWD, loadLibc, S_IFDIR, S_IFMT, STX_MODE_OFFSET } from "./lstat.ts";

/** STATX_TYPE | STATX_MODE | STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE */
const STATX_WANTED = 0x1 | 0x2 | 0x40 | 0x80 | 0x100 | 0x200;
// struct statx has the same layout on every Linux architecture.
const STX_INO = 32;
const STX_SIZE = 40;
const STX_CTIME = 96;
const STX_MTIME = 112;
const S_IFREG = 0o100000;
const NS_PER_SEC = 1_000_000_000n;
const MAX_PATH_BYTES = 4096;

type Statx = (path: Uint8Array, out: Uint8Array) => number;

function openStatx(): Statx | null {
  const libc = loadLibc();
  if (libc === null) return null;
  // ptr() on every call: a small typed array may move between calls, a pointer taken once would not follow it.
  const call: Statx = (p, out) => libc.statx(AT_FDCWD, ptr(p), 0, STATX_WANTED, ptr(out));
  // A kernel or sandbox without statx fails even on "/": then node:fs answers every call.
  return call(new TextEncoder().encode("/\0"), new Uint8Array(256)) === 0 ? call : null;
}

const statx = openStatx();
const out = new Uint8Array(256);
const view = new DataView(out.buffer);
const name = new Uint8Array(MAX_PATH_BYTES + 1);
const encoder = new TextEncoder();

function viaNodeFs(p: string, type: number): StatSnapshot | null {
  try {
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return null;
    return (type === S_IFREG ? st.isFile() : st.isDirectory()) ? snapshotOf(st) : null;
  } catch {
    // ENOTDIR, EACCES, ELOOP, …: no file we could read either
    return null;
  }
}

/**
 * The fields of a StatSnapshot as plain numbers (64-bit ones in two 32-bit halves, seconds
 * and nanoseconds apart), so comparing them allocates no BigInt. Same information, same rule.
 */
export interface StatStamp {
  readonly sizeLo: number;
  readonly sizeHi: number;
  readonly inoLo: number;
  readonly inoHi: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly ctimeSec: number;
  readonly ctimeNsec: number;
}

const TWO_32 = 2 ** 32;
const MASK_32 = 0xffff_ffffn;

/** Seconds (floored) and the non-negative nanoseconds past them, as statx gives a time. */
function splitNs(ns: bigint): [sec: number, nsec: number] {
  const nsec = ((ns % NS_PER_SEC) + NS_PER_SEC) % NS_PER_SEC;
  return [Number((ns - nsec) / NS_PER_SEC), Number(nsec)];
}

function stampOf(s: StatSnapshot): StatStamp {
  const [mtimeSec, mtimeNsec] = splitNs(s.mtimeNs);
  const [ctimeSec, ctimeNsec] = splitNs(s.ctimeNs);
  return {
    sizeLo: Number(s.size & MASK_32),
    sizeHi: Number(s.size >> 32n),
    inoLo: Number(s.ino & MASK_32),
    inoHi: Number(s.ino >> 32n),
    mtimeSec,
    mtimeNsec,
    ctimeSec,
    ctimeNsec,
  };
}

/** The snapshot a stamp stands for (exact: every field fits its halves). */
export function snapshotOfStamp(t: StatStamp): StatSnapshot {
  return {
    size: (BigInt(t.sizeHi) << 32n) | BigInt(t.sizeLo),
    mtimeNs: BigInt(t.mtimeSec) * NS_PER_SEC + BigInt(t.mtimeNsec),
    ctimeNs: BigInt(t.ctimeSec) * NS_PER_SEC + BigInt(t.ctimeNsec),
    ino: (BigInt(t.inoHi) << 32n) | BigInt(t.inoLo),
  };
}

/** The stamp of the regular file `p` resolves to; null when missing or not a regular file. */
export function regularFileStamp(p: string): StatStamp | null {
  const found = statxOfType(p, S_IFREG);
  if (found !== FOUND) {
    const st = found === NONE ? null : viaNodeFs(p, S_IFREG);
    return st === null ? null : stampOf(st);
  }
  return {
    sizeLo: view.getUint32(STX_SIZE, true),
    sizeHi: view.getUint32(STX_SIZE + 4, true),
    inoLo: view.getUint32(STX_INO, true),
    inoHi: view.getUint32(STX_INO + 4, true),
    mtimeSec: secondsAt(STX_MTIME),
    mtimeNsec: view.getUint32(STX_MTIME + 8, true),
    ctimeSec: secondsAt(STX_CTIME),
    ctimeNsec: view.getUint32(STX_CTIME + 8, true),
  };
}

/** tv_sec (signed 64 bits) as a number: exact for any time within ±2^53 s. */
function secondsAt(offset: number): number {
  return view.getInt32(offset + 4, true) * TWO_32 + view.getUint32(offset, true);
}

function timeNs(offset: number): bigint {
  return view.getBigInt64(offset, true) * NS_PER_SEC + BigInt(view.getUint32(offset + 8, true));
}

/** The snapshot of the regular file `p` resolves to; null when missing or not a regular file. */
export function regularFileSnapshot(p: string): StatSnapshot | null {
  return snapshotOfType(p, S_IFREG);
}

/** The snapshot of the directory `p` resolves to; null when missing or not a directory. */
export function directorySnapshot(p: string): StatSnapshot | null {
  return snapshotOfType(p, S_IFDIR);
}

/** What statx said of a path: a file of the wanted type (now in `out`), none, or ask node:fs. */
const FOUND = 1;
const NONE = 0;
const ASK_NODE_FS = -1;

function statxOfType(p: string, type: number): number {
  if (statx === null) return ASK_NODE_FS;
  const r = encoder.encodeInto(p, name);
  // A path that does not fit (or holds a NUL, which no file name can): ask node:fs.
  if (r.read < p.length || r.written >= MAX_PATH_BYTES || p.includes("\0")) return ASK_NODE_FS;
  name[r.written] = 0;
  // Any failure (ENOENT, ENOTDIR, EACCES, ELOOP, …) means no file we could read here.
  if (statx(name, out) !== 0) return NONE;
  return (view.getUint16(STX_MODE_OFFSET, true) & S_IFMT) === type ? FOUND : NONE;
}

function snapshotOfType(p: string, type: number): StatSnapshot | null {
  const found = statxOfType(p, type);
  if (found !== FOUND) return found === NONE ? null : viaNodeFs(p, type);
  return {
    size: view.getBigUint64(STX_SIZE, true),
    mtimeNs: timeNs(STX_MTIME),
    ctimeNs: timeNs(STX_CTIME),
    ino: view.getBigUint64(STX_INO, true),
  };
}
