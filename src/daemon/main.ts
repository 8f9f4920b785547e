// `zccache daemon`: take the start lock, open the store, serve until stopped or idle.
import * as fs from "node:fs";
import { loadConfig } from "../config/config.ts";
import { errorMessage } from "../platform/result.ts";
import { endpointFor } from "../protocol/endpoint.ts";
import { foldClientReports } from "./client-reports.ts";
import { acquireStartLock, ensurePrivateDir, releaseStartLock } from "./lifecycle.ts";
import { startServer } from "./server.ts";
import { DaemonState } from "./state.ts";

const IDLE_CHECK_MS = 1_000;
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
  const dir = ensurePrivateDir(ep.runtimeDir);
  if (!dir.ok) return fail(dir.error);
  const lock = await acquireStartLock(ep);
  if (lock.kind === "another-daemon") return 0;
  if (lock.kind === "failed") return fail(lock.why);

  const state = new DaemonState(ep, config.value, env);
  foldClientReports(ep.cacheRoot, state.counters);
  let shuttingDown = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    state.log.info(`shutting down: ${why}`);
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
    server = startServer(ep.socketPath, state, { requestShutdown: () => void shutdown("requested") });
    fs.chmodSync(ep.socketPath, 0o600);
  } catch (e) {
    state.close();
    return fail(`cannot listen on ${ep.socketPath}: ${errorMessage(e)}`);
  }
  state.startPersisting();
  state.log.info(`started version ${state.version} on ${ep.socketPath} for ${ep.cacheRoot}`);

  const idleMs = config.value.idleTimeoutSecs.value * 1000;
  const idleTimer = setInterval(() => {
    if (idleMs > 0 && state.inflight === 0 && Date.now() - state.lastActivityMs > idleMs) void shutdown("idle");
  }, Math.min(IDLE_CHECK_MS, Math.max(idleMs, 100)));
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void shutdown(sig));
  process.on("SIGHUP", () => {});

  await done;
  clearInterval(idleTimer);
  releaseStartLock(ep, lock.fd);
  return 0;
}
