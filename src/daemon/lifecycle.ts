// Daemon lifecycle: the private runtime directory, the single-flight start lock holding
// our PID, and stale-socket clean-up done only while holding that lock.
import * as fs from "node:fs";
import { roundTrip } from "../client/transport.ts";
import { tryLockExclusive } from "../platform/flock.ts";
import { err, errorMessage, ok, type Result } from "../platform/result.ts";
import { sleepMs } from "../platform/time.ts";
import type { Endpoint } from "../protocol/endpoint.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";

/** How long a starting daemon waits for a departing one to release the lock. */
const LOCK_WAIT_MS = 10_000;

/** Creates the runtime dir 0700 and refuses one that another user could write into. */
export function ensurePrivateDir(dir: string): Result<void, string> {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = process.getuid?.() ?? 0;
    if (!st.isDirectory()) return err(`${dir} is not a directory`);
    if (st.uid !== uid) return err(`${dir} belongs to uid ${st.uid}, not ${uid}`);
    if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    return ok(undefined);
  } catch (e) {
    return err(`cannot prepare ${dir}: ${errorMessage(e)}`);
  }
}

export type LockOutcome = { kind: "acquired"; fd: number } | { kind: "another-daemon" } | { kind: "failed"; why: string };

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
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
      // Under the lock no other daemon can be serving: a socket file is a leftover.
      fs.rmSync(ep.socketPath, { force: true });
      return { kind: "acquired", fd };
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
