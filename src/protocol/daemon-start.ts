// What the environment of a spawned daemon tells it about its start, shared by `zccache start`
// and the daemon: its owner PIDs (ZCCACHE_OWNER_PID, a comma list) and why it was started.
import { err, ok, type Result } from "../platform/result.ts";

/** Owners of a private daemon: it exits once all of them have exited. */
export const OWNER_PID_ENV = "ZCCACHE_OWNER_PID";

/**
 * Set to "start" by `zccache start` in the environment of the daemon it spawns, for the
 * lifecycle log; a daemon spawned without it was started by a compile or another command.
 */
export const START_REASON_ENV = "ZCCACHE_INTERNAL_START_REASON";

/** Linux's largest PID (PID_MAX_LIMIT, 2^22). */
const MAX_PID = 4_194_304;

/** "123", "123,456" or " 123 , 456 " → [123, 456]; anything else is refused with the bad item. */
export function parseOwnerPids(text: string): Result<number[], string> {
  const pids: number[] = [];
  for (const item of text.split(",")) {
    const t = item.trim();
    const n = Number(t);
    if (!/^[0-9]+$/.test(t) || !Number.isSafeInteger(n) || n < 1 || n > MAX_PID) {
      return err(`invalid owner PID '${item}' (expected a process ID, or a comma list of them)`);
    }
    if (!pids.includes(n)) pids.push(n);
  }
  return ok(pids);
}
