// `zccache daemon`: take the start lock, open the store, serve until stopped or idle.
import * as fs from "node:fs";
import type { SeenProcess } from "../client/daemon-process.ts";
import { loadConfig } from "../config/config.ts";
import { errorMessage } from "../platform/result.ts";
import { endpointFor } from "../protocol/endpoint.ts";
import { OWNER_PID_ENV, parseOwnerPids } from "../protocol/daemon-start.ts";
import { foldClientReports } from "./client-reports.ts";
import { acquireStartLock, ensurePrivateDir, releaseStartLock } from "./lifecycle.ts";
import { type ExitEvent, startReasonFrom } from "./lifecycle-events.ts";
import { Owners } from "./owners.ts";
import { startServer } from "./server.ts";
import { DaemonState } from "./state.ts";

const IDLE_CHECK_MS = 1_000;
/** How often a daemon with owners checks whether they are all gone. */
const OWNER_CHECK_MS = 2_000;
/** How long a stopping daemon waits for in-flight compiles before it exits anyway. */
const DRAIN_MS = 30_000;
/** How long a stopping daemon waits for queued remote writes (within the client's 10 s stop timeout). */
const REMOTE_DRAIN_MS = 5_000;

function fail(msg: string): number {
  process.stderr.write(`zccache daemon: ${msg}\n`);
  return 1;
}

export async function daemonMain(args: string[]): Promise<number> {
  const env = { ...process.env };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--cache-dir" && args[i + 1] !== undefined) {
      env.ZCCACHE_CACHE_DIR = args[i + 1];
      i++;
    } else return fail(`unknown argument '${args[i]}'`);
  }
  const ep = endpointFor(env, "/");
  const config = loadConfig(ep.cacheRoot, env);
  if (!config.ok) return fail(`bad configuration: ${config.error}`);
  // Owners named by the environment that spawned us (ZCCACHE_OWNER_PID): refused before
  // anything starts, so a bad value never leaves a daemon without the owner it was meant to have.
  let initialOwners: SeenProcess[] = [];
  const ownerText = env[OWNER_PID_ENV];
  if (ownerText !== undefined && ownerText !== "") {
    const pids = parseOwnerPids(ownerText);
    if (!pids.ok) return fail(`${OWNER_PID_ENV}: ${pids.error}`);
    const seen = Owners.see(pids.value);
    if (!seen.ok) return fail(`${OWNER_PID_ENV}: ${seen.error}`);
    initialOwners = seen.value;
  }
  const dir = ensurePrivateDir(ep.runtimeDir);
  if (!dir.ok) return fail(dir.error);
  const lock = await acquireStartLock(ep);
  if (lock.kind === "another-daemon") return 0;
  if (lock.kind === "failed") return fail(lock.why);

  const state = new DaemonState(ep, config.value, env);
  state.owners.adopt(initialOwners);
  state.startReason = startReasonFrom(env);
  if (lock.stale !== null) {
    state.lifecycle.record({ event: "crash-recovered", previous_pid: lock.stale.pid, stale_socket: lock.stale.socket });
    state.log.info(`recovered from a daemon that did not stop cleanly (pid ${lock.stale.pid ?? "unknown"})`);
  }
  foldClientReports(ep.cacheRoot, state.counters);
  let shuttingDown = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const shutdown = async (why: ExitEvent): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    state.lifecycle.record(why);
    state.log.info(`shutting down: ${why.event}`);
    // Let the response that asked for this reach its client first.
    await Bun.sleep(5);
    // Stop accepting, but let in-flight requests answer: a client cut off here would
    // compile again by itself while we finish the same compile.
    server.stop(false);
    fs.rmSync(ep.socketPath, { force: true });
    const deadline = Date.now() + DRAIN_MS;
    while (state.inflight > 0 && Date.now() < deadline) await Bun.sleep(10);
    // Entries not yet written to remote storage: a bounded wait, then they are dropped (counted).
    await state.remotes.drain(REMOTE_DRAIN_MS);
    state.close();
    resolveDone();
  };

  let server: ReturnType<typeof startServer>;
  try {
    // Dispatch says why (stop, a newer client) in pendingExit; the server asks without one
    // only for a client of a newer protocol.
    const requestShutdown = (): void => void shutdown(state.pendingExit ?? { event: "version-replace", newer_client: null });
    server = startServer(ep.socketPath, state, { requestShutdown });
    fs.chmodSync(ep.socketPath, 0o600);
  } catch (e) {
    state.close();
    return fail(`cannot listen on ${ep.socketPath}: ${errorMessage(e)}`);
  }
  state.startPersisting();
  state.log.info(`started version ${state.version} on ${ep.socketPath} for ${ep.cacheRoot}`);
  state.lifecycle.record({ event: "start", reason: state.startReason, owners: state.owners.pids() });

  const idleMs = config.value.idleTimeoutSecs.value * 1000;
  const idleTimer = setInterval(() => {
    if (idleMs > 0 && state.inflight === 0 && Date.now() - state.lastActivityMs > idleMs) {
      void shutdown({ event: "idle-exit", idle_secs: config.value.idleTimeoutSecs.value });
    }
  }, Math.min(IDLE_CHECK_MS, Math.max(idleMs, 100)));
  const ownerTimer = setInterval(() => {
    const gone = state.owners.prune();
    if (gone.length > 0) state.log.info(`owner${gone.length > 1 ? "s" : ""} ${gone.join(", ")} exited`);
    // `owners` names the last ones to go, those that ended the daemon.
    if (state.owners.allExited()) void shutdown({ event: "owner-exit", owners: gone });
  }, OWNER_CHECK_MS);
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void shutdown({ event: "stop", by: sig }));
  process.on("SIGHUP", () => {});

  await done;
  clearInterval(idleTimer);
  clearInterval(ownerTimer);
  releaseStartLock(ep, lock.fd);
  return 0;
}
