// Daemon lifecycle: the private runtime directory, the single-flight start lock holding
// our PID, and stale-socket clean-up done only while holding that lock.
import * as fs from "node:fs";
import { roundTrip } from "../client/transport.ts";
import { tryLockExclusive } from "../platform/flock.ts";
import { err, errorMessage, ok, type Result } from "../platform/result.ts";
import { sleepMs } from "../platform/time.ts";
import type { Endpoint } from "../protocol/endpoint.ts";
import { ensurePrivateRuntimeDir } from "../protocol/runtime-dir.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";

/** How long a starting daemon waits for a departing one to release the lock. */
const LOCK_WAIT_MS = 10_000;

/**
 * Creates the runtime dir 0700, or accepts one that is already a private directory of ours.
 * Anything else (a symlink, another owner, group/other bits) is refused as it is: chmod-ing
 * or clearing it could damage a directory someone pointed us at.
 */
export function ensurePrivateDir(dir: string): Result<void, string> {
  const v = ensurePrivateRuntimeDir(dir, process.getuid?.() ?? 0, fs);
  return v.kind === "private" ? ok(undefined) : err(`refusing runtime dir ${dir}: ${v.kind === "refused" ? v.why : "absent"}`);
}

/**
 * What a daemon that died without a clean stop left behind: a clean exit removes both the
 * socket and the lock file, so a PID in the lock or a socket found under the lock is stale.
 */
export interface StaleDaemon {
  readonly pid: number | null;
  readonly socket: boolean;
}

export type LockOutcome =
  | { kind: "acquired"; fd: number; stale: StaleDaemon | null }
  | { kind: "another-daemon" }
  | { kind: "failed"; why: string };

async function someoneAnswers(ep: Endpoint): Promise<boolean> {
  const r = await roundTrip(ep.socketPath, { type: "ping", clientVersion: PRODUCT_VERSION });
  return r.ok;
}

/**
 * Takes the start lock. Exactly one daemon per endpoint holds it; the others either find
 * the holder answering on the socket (and leave) or wait for a departing one to exit.
 */
export async function acquireStartLock(ep: Endpoint): Promise<LockOutcome> {
  let fd: number;
  try {
    fd = fs.openSync(ep.lockPath, "a+", 0o600);
  } catch (e) {
    return { kind: "failed", why: errorMessage(e) };
  }
  const deadline = Date.now() + LOCK_WAIT_MS;
  let delayMs = 5;
  for (;;) {
    if (tryLockExclusive(fd)) {
      // A departing daemon unlinks the lock file while it still holds the lock: a lock won on
      // that unlinked inode excludes nobody (the next starter creates a fresh file), so start over.
      if (!isCurrentFile(fd, ep.lockPath)) {
        fs.closeSync(fd);
        try {
          fd = fs.openSync(ep.lockPath, "a+", 0o600);
        } catch (e) {
          return { kind: "failed", why: errorMessage(e) };
        }
        continue;
      }
      const stale = leftovers(fd, ep);
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
      // Under the lock no other daemon can be serving: a socket file is a leftover.
      fs.rmSync(ep.socketPath, { force: true });
      return { kind: "acquired", fd, stale };
    }
    if (await someoneAnswers(ep)) {
      fs.closeSync(fd);
      return { kind: "another-daemon" };
    }
    if (Date.now() > deadline) {
      fs.closeSync(fd);
      return { kind: "failed", why: "timed out waiting for the start lock" };
    }
    await sleepMs(delayMs);
    delayMs = Math.min(delayMs * 2, 100);
  }
}

/** Read under the lock, before we overwrite it: the previous holder's PID and socket, if any. */
function leftovers(fd: number, ep: Endpoint): StaleDaemon | null {
  const buf = Buffer.alloc(32);
  let text = "";
  try {
    text = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString("utf8").trim();
  } catch {
    // an unreadable lock says nothing about its previous holder
  }
  const pid = /^[0-9]+$/.test(text) ? Number(text) : null;
  const socket = fs.existsSync(ep.socketPath);
  return pid === null && !socket ? null : { pid, socket };
}

/** Whether `fd` is still the file at `p` (not unlinked or replaced since it was opened). */
function isCurrentFile(fd: number, p: string): boolean {
  const held = fs.fstatSync(fd);
  const now = fs.statSync(p, { throwIfNoEntry: false });
  return now !== undefined && now.dev === held.dev && now.ino === held.ino;
}

/**
 * Removes the lock file on a graceful exit, while still holding the lock (so no starter can
 * be between its own lock and its check of the path), then releases it.
 */
export function releaseStartLock(ep: Endpoint, fd: number): void {
  try {
    if (isCurrentFile(fd, ep.lockPath)) fs.rmSync(ep.lockPath, { force: true });
  } catch {
    // a lock file left behind is harmless: the next daemon reuses it
  }
  fs.closeSync(fd);
}
