// Starts a detached daemon: its own session, no inherited stdio (a build waiting on a
// pipe must not wait for us), cwd "/" so it never pins a build directory.
// Bun.spawn only: a node:* import here would load on every compile.
import { withDaemonAllocator } from "../platform/daemon-env.ts";
import type { Endpoint } from "../protocol/endpoint.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The spawned daemon, so a waiting client can notice it exiting with an error. */
export interface SpawnedDaemon {
  readonly exitCode: number | null;
}

// The daemon keeps the memory it frees unless the environment says otherwise (daemon-env.ts).
export function spawnDetachedDaemon(ep: Endpoint, env: Env): SpawnedDaemon | null {
  const exe = env.ZCCACHE_DAEMON_BIN || process.execPath;
  try {
    const child = Bun.spawn([exe, "daemon", "--cache-dir", ep.cacheRoot], {
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
      cwd: "/",
      env: { ...withDaemonAllocator(env), ZCCACHE_CACHE_DIR: ep.cacheRoot },
    });
    child.unref();
    return child;
  } catch {
    return null;
  }
}
