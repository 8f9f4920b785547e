// `zccache stop`: ask the daemon to stop and wait for it to exit; one that does not answer or
// does not exit within ZCCACHE_STOP_TIMEOUT_SECS is killed (SIGKILL, once it is proven ours).
import { endpointFor } from "../protocol/endpoint.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { isOurDaemon, killOurDaemon, lockHolderPid, waitForExit } from "./daemon-process.ts";
import { runtimeDirTrusted } from "./runtime-dir.ts";
import { roundTrip } from "./transport.ts";

const DEFAULT_STOP_TIMEOUT_SECS = 10;
/** After SIGKILL only the kernel is left to act; this bounds a wait that should take ms. */
const KILL_WAIT_MS = 5_000;

function stopTimeoutSecs(raw: string | undefined): number | string {
  if (raw === undefined || raw === "") return DEFAULT_STOP_TIMEOUT_SECS;
  if (/^\s*\d+\s*$/.test(raw) && Number(raw) > 0) return Number(raw);
  return `ZCCACHE_STOP_TIMEOUT_SECS: expected whole seconds greater than 0, got '${raw}'`;
}

export async function stopCommand(): Promise<number> {
  const secs = stopTimeoutSecs(process.env.ZCCACHE_STOP_TIMEOUT_SECS);
  if (typeof secs === "string") {
    process.stderr.write(`zccache: stop: ${secs}\n`);
    return 2;
  }
  const ep = endpointFor(process.env, process.cwd());
  if (!(await runtimeDirTrusted(ep.runtimeDir))) {
    process.stderr.write(`zccache: stop: ${ep.runtimeDir} is not private to this user\n`);
    return 1;
  }
  const r = await roundTrip(ep.socketPath, { type: "stop", clientVersion: PRODUCT_VERSION }, secs * 1000);
  let pid: number | null;
  let answered = false;
  if (r.ok) {
    pid = r.response.pid;
    // A daemon of another version may answer without stopping: SIGTERM stops any of ours.
    answered = r.response.type === "ok" || killOurDaemon(pid, ep.cacheRoot, "SIGTERM");
  } else {
    // Silent, hung up or speaking another protocol: the lock names whoever serves this root.
    pid = (r.failure.kind === "old-daemon" ? r.failure.pid : null) ?? lockHolderPid(ep);
    if (pid === null || !isOurDaemon(pid, ep.cacheRoot)) {
      process.stdout.write("zccache: no daemon running\n");
      return 0;
    }
    // A daemon from before protocol 2 cannot read our request, but stops on SIGTERM.
    if (r.failure.kind === "old-daemon") answered = killOurDaemon(pid, ep.cacheRoot, "SIGTERM");
  }
  if (answered && (await waitForExit(pid, secs * 1000))) {
    process.stdout.write(`zccache daemon stopped (pid ${pid})\n`);
    return 0;
  }
  killOurDaemon(pid, ep.cacheRoot, "SIGKILL");
  if (!(await waitForExit(pid, KILL_WAIT_MS))) {
    process.stderr.write(`zccache: stop: daemon ${pid} survived SIGKILL\n`);
    return 1;
  }
  const why = answered ? `did not exit within ${secs} s` : `did not answer within ${secs} s`;
  process.stdout.write(`zccache daemon ${pid} ${why}; killed it (SIGKILL)\n`);
  return 0;
}
