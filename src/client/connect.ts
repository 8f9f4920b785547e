// Reaching the daemon: connect, start it when absent, replace it when it is older than us
// or has gone silent.
import type { Endpoint } from "../protocol/endpoint.ts";
import type { Request } from "../protocol/messages.ts";
import { runtimeDirTrusted } from "./runtime-dir.ts";
import { type SpawnedDaemon, spawnDetachedDaemon } from "./spawn-daemon.ts";
import { CLIENT_TIMEOUT, type RoundTrip, roundTrip } from "./transport.ts";

/** How long a client waits for a daemon it just spawned before compiling by itself. */
const START_WAIT_MS = 15_000;
/** How long an outdated daemon gets to hand over before it is asked (SIGTERM) to leave. */
const HAND_OVER_WAIT_MS = 3_000;
/** How long a command waits before asking again after a departing daemon dropped it. */
const HUNG_UP_RETRY_MS = 50;
const STOP_WAIT_MS = 10_000;

type Env = Readonly<Record<string, string | undefined>>;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntilReachable(ep: Endpoint, request: Request, child: SpawnedDaemon): Promise<RoundTrip | null> {
  const deadline = Date.now() + START_WAIT_MS;
  let delayMs = 2;
  let last: RoundTrip | null = null;
  while (Date.now() < deadline) {
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 50);
    last = await roundTrip(ep.socketPath, request);
    if (last.ok || last.failure.kind !== "no-daemon") return last;
    // Exit 0 means another daemon won the start race; anything else (a malformed config,
    // an unusable runtime dir) will not get better by waiting.
    if (child.exitCode !== null && child.exitCode !== 0) return last;
  }
  return last;
}

/**
 * Waits for an outdated daemon to hand over. One that does not (a daemon from before
 * protocol 2 only answers "bad-version") is asked to leave with SIGTERM, after checking it
 * is ours. Rare path: the process checks load node:fs.
 */
async function waitForHandOver(ep: Endpoint, pid: number | null): Promise<void> {
  const proc = await import("./daemon-process.ts");
  const target = pid ?? proc.lockHolderPid(ep);
  if (target === null) return;
  if (await proc.waitForExit(target, HAND_OVER_WAIT_MS)) return;
  if (proc.killOurDaemon(target, ep.cacheRoot, "SIGTERM")) await proc.waitForExit(target, STOP_WAIT_MS);
}

/** The settings problem that would make a daemon refuse to start, if any (rare path). */
async function settingsProblem(ep: Endpoint, env: Env): Promise<string | null> {
  const { loadConfig } = await import("../config/config.ts");
  const r = loadConfig(ep.cacheRoot, env);
  if (!r.ok) return r.error;
  // The owners a daemon started from this environment would have (it refuses the same way).
  const { OWNER_PID_ENV, parseOwnerPids } = await import("../protocol/daemon-start.ts");
  const owners = env[OWNER_PID_ENV];
  if (owners === undefined || owners === "") return null;
  const pids = parseOwnerPids(owners);
  if (!pids.ok) return `${OWNER_PID_ENV}: ${pids.error}`;
  for (const pid of pids.value) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") return `${OWNER_PID_ENV}: owner PID ${pid} is not a running process`;
    }
  }
  return null;
}

function badSetting(request: Request, detail: string): RoundTrip {
  // A compile says what it does about it; a command reports the detail in its own words.
  if (request.type === "compile") process.stderr.write(`zccache: ${detail}; compiling without the cache\n`);
  return { ok: false, failure: { kind: "bad-setting", detail } };
}

/**
 * The opt-in broker lane (broker.ts, loaded only then): ZCCACHE_BROKER_CONNECT=1 or the
 * test-only RUNNING_PROCESS_FAKE_BACKEND, never with RUNNING_PROCESS_DISABLE=1. The launcher
 * hands a compile over to us by the same rule.
 */
function brokerLaneRequested(env: Env): boolean {
  if (env.RUNNING_PROCESS_DISABLE === "1") return false;
  return env.ZCCACHE_BROKER_CONNECT === "1" || Boolean(env.RUNNING_PROCESS_FAKE_BACKEND);
}

/** A daemon's run-local answer may carry a message for the user: say it. */
function withRunLocalMessage(r: RoundTrip): RoundTrip {
  if (r.ok && r.response.type === "run-local" && r.response.message !== undefined) {
    process.stderr.write(`zccache: ${r.response.message}\n`);
  }
  return r;
}

/** The PID of a daemon that must be replaced because it is older than us, if `r` says so. */
function outdatedDaemon(r: RoundTrip): { pid: number | null } | null {
  if (r.ok) return r.response.type === "error" && r.response.code === "daemon-outdated" ? { pid: r.response.pid } : null;
  return r.failure.kind === "old-daemon" ? { pid: r.failure.pid } : null;
}

/**
 * A compile sent at `sentAtMs` heard nothing for the whole client deadline: count it, and
 * replace the daemon that ignored it (see replaceWedgedDaemon) with a fresh one.
 */
export async function replaceSilentDaemon(ep: Endpoint, env: Env, sentAtMs: number): Promise<void> {
  const { replaceWedgedDaemon } = await import("./daemon-process.ts");
  if (replaceWedgedDaemon(ep, sentAtMs) !== null) spawnDetachedDaemon(ep, env);
}

/**
 * Sends `request`, starting a daemon first if none answers (after checking the settings it
 * would refuse to start with). A daemon older than this client, in product or protocol
 * version, hands over: we wait for it to exit, start a new one and retry once. A compile
 * that hears nothing for the client deadline counts that and replaces the silent daemon.
 */
export async function requestWithStart(ep: Endpoint, env: Env, request: Request): Promise<RoundTrip> {
  if ("problem" in CLIENT_TIMEOUT) return badSetting(request, CLIENT_TIMEOUT.problem);
  if (!(await runtimeDirTrusted(ep.runtimeDir, request.type === "compile" ? ep.cacheRoot : undefined))) {
    process.stderr.write(`zccache: ${ep.runtimeDir} is not private to this user; not using the cache\n`);
    return { ok: false, failure: { kind: "no-daemon", detail: "untrusted runtime dir" } };
  }
  if (brokerLaneRequested(env)) {
    const { requestViaBroker } = await import("./broker.ts");
    const viaBroker = await requestViaBroker(ep, env, request);
    if (viaBroker !== null) return withRunLocalMessage(viaBroker);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    let r = await roundTrip(ep.socketPath, request);
    // A command that reached a daemon on its way out (stopping, idle) lost its connection:
    // ask again, starting a daemon if need be. A compile does not wait for that; it runs locally.
    if (!r.ok && r.failure.kind === "hung-up" && request.type !== "compile") {
      await sleep(HUNG_UP_RETRY_MS);
      r = await roundTrip(ep.socketPath, request);
    }
    if (!r.ok && r.failure.kind === "no-daemon") {
      const problem = await settingsProblem(ep, env);
      if (problem !== null) return badSetting(request, problem);
      const child = spawnDetachedDaemon(ep, env);
      if (child === null) return r;
      r = (await waitUntilReachable(ep, request, child)) ?? r;
    }
    const outdated = outdatedDaemon(r);
    if (outdated !== null) {
      await waitForHandOver(ep, outdated.pid);
      continue;
    }
    if (!r.ok && r.failure.kind === "timeout" && request.type === "compile") {
      await replaceSilentDaemon(ep, env, r.failure.startedAtMs);
    }
    return withRunLocalMessage(r);
  }
  return roundTrip(ep.socketPath, request);
}
