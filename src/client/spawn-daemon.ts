// Starts a detached daemon: its own session, no inherited stdio (a build waiting on a
// pipe must not wait for us), cwd "/" so it never pins a build directory.
import { spawn } from "node:child_process";
import type { Endpoint } from "../protocol/endpoint.ts";

type Env = Readonly<Record<string, string | undefined>>;

export function spawnDetachedDaemon(ep: Endpoint, env: Env): Promise<boolean> {
  const exe = env.ZCCACHE_DAEMON_BIN || process.execPath;
  return new Promise((resolve) => {
    try {
      const child = spawn(exe, ["daemon", "--cache-dir", ep.cacheRoot], {
        detached: true,
        stdio: "ignore",
        cwd: "/",
        env: { ...env, ZCCACHE_CACHE_DIR: ep.cacheRoot },
      });
      child.once("error", () => resolve(false));
      child.once("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
