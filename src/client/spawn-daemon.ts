// Starts a detached daemon: its own session, no inherited stdio (a build waiting on a
// pipe must not wait for us), cwd "/" so it never pins a build directory.
// Bun.spawn only: a node:* import here would load on every compile.
import type { Endpoint } from "../protocol/endpoint.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The spawned daemon, so a waiting client can notice it exiting with an error. */
export interface SpawnedDaemon {
  readonly exitCode: number | null;
}

/**
 * The allocator setting a daemon we spawn runs with, unless the environment sets its own:
 * mimalloc keeps the memory it freed instead of returning it to the kernel 10 ms later. A
 * daemon serving a build frees and reuses the same few megabytes on every request; returning
 * them cost a background thread's CPU and TLB shootdowns that interrupt the compile jobs on
 * the other core. Measured on a `make -j2` libuv rebuild (74 hits): the daemon's CPU fell
 * by about a quarter and the rebuild by ~4%; its resident size after six rebuilds was 97 MB
 * against 87 MB. The daemon runs compilers with the request's environment, not its own.
 */
const DAEMON_ALLOCATOR_ENV = { MIMALLOC_PURGE_DELAY: "-1" } as const;

export function spawnDetachedDaemon(ep: Endpoint, env: Env): SpawnedDaemon | null {
  const exe = env.ZCCACHE_DAEMON_BIN || process.execPath;
  try {
    const child = Bun.spawn([exe, "daemon", "--cache-dir", ep.cacheRoot], {
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
      cwd: "/",
      env: { ...DAEMON_ALLOCATOR_ENV, ...(env as Record<string, string>), ZCCACHE_CACHE_DIR: ep.cacheRoot },
    });
    child.unref();
    return child;
  } catch {
    return null;
  }
}
