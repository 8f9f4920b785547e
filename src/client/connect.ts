// Reaching the daemon: connect, start it when absent, replace it when it is older than us.
import type { Endpoint } from "../protocol/endpoint.ts";
import type { Request } from "../protocol/messages.ts";
import { type SpawnedDaemon, spawnDetachedDaemon } from "./spawn-daemon.ts";
import { type RoundTrip, roundTrip } from "./transport.ts";

/** How long a client waits for a daemon it just spawned before compiling by itself. */
const START_WAIT_MS = 15_000;
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

export async function waitForExit(pid: number): Promise<boolean> {
  const deadline = Date.now() + STOP_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(10);
  }
  return false;
}


/**
 * Whether the runtime dir may be trusted: absent (the daemon will create it 0700), or a
 * directory we own that nobody else can write to. A dir of ours left open to others is
 * closed again and cleared of anything another user put there; a dir someone else owns
 * could hold a socket planted to read our environment and forge our objects.
 */
export async function runtimeDirTrusted(dir: string): Promise<boolean> {
  let st: Awaited<ReturnType<ReturnType<typeof Bun.file>["stat"]>>;
  try {
    st = await Bun.file(dir).stat();
  } catch {
    return true;
  }
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid) return false;
  if ((st.mode & 0o077) === 0) return true;
  // Rare path: node:fs is loaded only here, never on an ordinary compile.
  const fs = await import("node:fs");
  try {
    fs.chmodSync(dir, 0o700);
    for (const name of fs.readdirSync(dir)) {
      const p = `${dir}/${name}`;
      if (fs.lstatSync(p).uid !== uid) fs.rmSync(p, { force: true, recursive: true });
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `request`, starting a daemon first if none answers. A daemon older than
 * this client answers "daemon-outdated" and exits; we then start a new one and retry once.
 */
export async function requestWithStart(ep: Endpoint, env: Env, request: Request): Promise<RoundTrip> {
  if (!(await runtimeDirTrusted(ep.runtimeDir))) {
    process.stderr.write(`zccache: ${ep.runtimeDir} is not private to this user; not using the cache\n`);
    return { ok: false, failure: { kind: "no-daemon", detail: "untrusted runtime dir" } };
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    let r = await roundTrip(ep.socketPath, request);
    if (!r.ok && r.failure.kind === "no-daemon") {
      const child = spawnDetachedDaemon(ep, env);
      if (child === null) return r;
      r = (await waitUntilReachable(ep, request, child)) ?? r;
    }
    if (r.ok && r.response.type === "error" && r.response.code === "daemon-outdated") {
      await waitForExit(r.response.pid);
      continue;
    }
    return r;
  }
  return roundTrip(ep.socketPath, request);
}
