// Our daemon as a process: which PID holds the start lock, whether a PID is still our daemon,
// waiting for it to exit, and killing a wedged one. Uses node:fs, so it is loaded only on rare
// paths (a silent or outdated daemon, `stop`), never by an ordinary compile.
import * as fs from "node:fs";
import * as path from "node:path";
import { CLIENT_REPORTS_FILE, type ClientReportReason } from "../protocol/client-reports.ts";
import type { Endpoint } from "../protocol/endpoint.ts";

/** Linux's USER_HZ, the unit of the start time in /proc/PID/stat. */
const CLOCK_TICKS_PER_SEC = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function readOrNull(p: string): string | null {
  try {
    return fs.readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

/** The fields of /proc/PID/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const close = stat.lastIndexOf(")");
  return close < 0 ? null : stat.slice(close + 2).split(" ");
}

/** The PID written in the start lock, or null when there is none. */
export function lockHolderPid(ep: Endpoint): number | null {
  const text = readOrNull(ep.lockPath);
  if (text === null) return null;
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Whether `pid` is a live daemon of ours for this cache root: its command line is
 * `<exe> daemon --cache-dir <root>`, it runs as our uid, and it is not a zombie. A PID that
 * fails any of these is not ours to signal (it exited, or the number was reused).
 */
export function isOurDaemon(pid: number, cacheRoot: string): boolean {
  const fields = statFields(pid);
  const state = fields?.[0];
  if (state === undefined || state === "Z" || state === "X" || state === "x") return false;
  const cmdline = readOrNull(`/proc/${pid}/cmdline`);
  if (cmdline === null) return false;
  const argv = cmdline.split("\u0000");
  if (argv[1] !== "daemon" || argv[2] !== "--cache-dir" || argv[3] !== cacheRoot) return false;
  try {
    return fs.statSync(`/proc/${pid}`).uid === (process.getuid?.() ?? 0);
  } catch {
    return false;
  }
}

/** A process as seen once: its PID and start time, so a reused PID is not mistaken for it. */
export interface SeenProcess {
  readonly pid: number;
  readonly startTicks: string;
}

/** The process running as `pid` now, or null when there is none or it is a zombie. */
export function seeProcess(pid: number): SeenProcess | null {
  const fields = statFields(pid);
  const state = fields?.[0];
  const startTicks = fields?.[19];
  if (state === undefined || startTicks === undefined || state === "Z" || state === "X" || state === "x") return null;
  return { pid, startTicks };
}

/**
 * The liveness test for waits: a process has exited once it is gone, a zombie (a detached
 * daemon's new parent may take its time to reap it), or its PID belongs to someone else.
 */
export function hasExited(p: SeenProcess): boolean {
  const now = seeProcess(p.pid);
  return now === null || now.startTicks !== p.startTicks;
}

/** Waits for `pid` (seen now) to exit; true once it has, false when `timeoutMs` passes first. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const seen = seeProcess(pid);
  if (seen === null) return true;
  const deadline = Date.now() + timeoutMs;
  let delayMs = 5;
  while (!hasExited(seen)) {
    if (Date.now() >= deadline) return false;
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 50);
  }
  return true;
}

/** When the process started, in Date.now() terms (10 ms resolution), or null if unknown. */
export function processStartMs(pid: number): number | null {
  const startTicks = Number(statFields(pid)?.[19]);
  const uptimeSecs = Number.parseFloat(readOrNull("/proc/uptime") ?? "");
  if (!Number.isFinite(startTicks) || !Number.isFinite(uptimeSecs)) return null;
  return Date.now() - (uptimeSecs - startTicks / CLOCK_TICKS_PER_SEC) * 1000;
}

/** SIGKILL, but only after checking that `pid` is our daemon for this root. */
export function killOurDaemon(pid: number, cacheRoot: string, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): boolean {
  if (!isOurDaemon(pid, cacheRoot)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Appends one reason to the reports the daemon folds into its counters. */
export function recordClientReport(cacheRoot: string, reason: ClientReportReason): void {
  try {
    const flags = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;
    const fd = fs.openSync(path.join(cacheRoot, CLIENT_REPORTS_FILE), flags, 0o600);
    try {
      fs.writeSync(fd, `${reason} ${process.pid}\n`);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // No cache root (or not ours to write): the count is lost, the compile is not.
  }
}

/**
 * After `connectedAtMs`'s request timed out: counts it, and SIGKILLs the daemon holding the
 * lock when it is ours and was already running when we connected (a daemon started since
 * is a replacement someone else brought up, not the one that ignored us). The kernel drops
 * its lock with it, and the next client starts a fresh daemon. Returns the PID killed.
 */
export function replaceWedgedDaemon(ep: Endpoint, connectedAtMs: number): number | null {
  recordClientReport(ep.cacheRoot, "daemon-unresponsive");
  const pid = lockHolderPid(ep);
  if (pid === null) return null;
  const startedMs = processStartMs(pid);
  if (startedMs === null || startedMs > connectedAtMs + 100) return null;
  return killOurDaemon(pid, ep.cacheRoot) ? pid : null;
}
