// File-system helpers: stat snapshots, atomic writes, directories.
import * as fs from "node:fs";
import * as path from "node:path";
import { errorCode } from "./result.ts";

/** What a hit compares to decide whether a file may have changed. */
export interface StatSnapshot {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
}

export function snapshotOf(st: fs.BigIntStats): StatSnapshot {
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino };
}

/** stat that returns null for a missing file instead of throwing. */
export function statSnapshot(p: string): StatSnapshot | null {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  if (!st?.isFile()) return null;
  return snapshotOf(st);
}

/** Compares a snapshot with live stats (or another snapshot) without allocating. */
export function sameSnapshot(a: StatSnapshot, b: StatSnapshot | fs.BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

/** True when a path does not exist at all (any type). */
/** The real path of `p` (symlinks resolved), or null when it cannot be resolved. */
export function realPathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

export function isAbsent(p: string): boolean {
  try {
    fs.lstatSync(p);
    return false;
  } catch (e) {
    const code = errorCode(e);
    return code === "ENOENT" || code === "ENOTDIR";
  }
}

export function mkdirp(dir: string, mode?: number): void {
  fs.mkdirSync(dir, { recursive: true, mode });
}

let tmpCounter = 0;
/** A temp name in the same directory as `target`, so a rename is atomic. */
export function siblingTemp(target: string): string {
  tmpCounter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${tmpCounter}.tmp`);
}

/** Writes bytes to `target` through a temp file and a rename. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  const tmp = siblingTemp(target);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

/**
 * Moves the finished `tmp` to `target`. The old target is unlinked first: a rename over an
 * existing file makes ext4 (auto_da_alloc) write the new file's data out before the rename,
 * ~1.5 ms a file on this disk against ~0.3 ms. The name never holds partial content; it is
 * only absent for a moment, as it is while a compiler rewrites it.
 */
export function moveIntoPlace(tmp: string, target: string): void {
  try {
    fs.unlinkSync(target);
  } catch {
    // absent already, or not unlinkable (a directory): the rename decides
  }
  fs.renameSync(tmp, target);
}

export function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { force: true });
  } catch {
    // best effort
  }
}

export function readIfExists(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    const code = errorCode(e);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
    throw e;
  }
}

/** The later of a file's mtime and ctime, in nanoseconds. */
export function newestChangeNs(st: { mtimeNs: bigint; ctimeNs: bigint }): bigint {
  return st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
}

/** Whether another process's stderr is a terminal, from its /proc fd link (false if unknown). */
export function stderrIsTerminal(pid: number): boolean {
  try {
    return /^\/dev\/(pts\/|tty|console$)/.test(fs.readlinkSync(`/proc/${pid}/fd/2`));
  } catch {
    return false;
  }
}

/**
 * Whether another process's stdin is /dev/null (what cargo gives its probes), from its /proc
 * fd link; false if unknown. The pid is the client's own word: its working directory must be
 * `cwd` (the request's) too.
 */
export function stdinIsDevNull(pid: number, cwd: string): boolean {
  try {
    if (fs.realpathSync(`/proc/${pid}/cwd`) !== fs.realpathSync(cwd)) return false;
    const fd0 = fs.statSync(`/proc/${pid}/fd/0`);
    return fd0.isCharacterDevice() && fd0.rdev === fs.statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}

/** Changed at or after `startNs`: its content may not be what a compiler started then read. */
export function changedSince(snap: StatSnapshot, startNs: bigint): boolean {
  return snap.mtimeNs >= startNs || snap.ctimeNs >= startNs;
}

/** A regular file written since `startNs`, with slack: the coarse kernel clock lags a tick. */
export function writtenSince(p: string, startNs: bigint): boolean {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  return st?.isFile() === true && st.mtimeNs >= startNs - 50_000_000n;
}

/**
 * Whether a cache may put a file at `p` by writing a temp file and renaming it there: `p` is
 * absent, a regular file, or a symlink to one (or dangling). A device (/dev/null), a fifo, a
 * directory or a link to one is not: renaming over it would replace it.
 */
export function replaceableOutput(p: string): boolean {
  const lst = fs.lstatSync(p, { throwIfNoEntry: false });
  if (lst === undefined || lst.isFile()) return true;
  if (!lst.isSymbolicLink()) return false;
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st === undefined || st.isFile();
}
