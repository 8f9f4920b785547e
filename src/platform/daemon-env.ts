// The allocator setting a daemon spawned by a client runs with, and how the daemon keeps it to
// itself. mimalloc returned freed pages to the kernel 10 ms after each request, from a
// background thread, with TLB shootdowns that interrupt the compile jobs on the other core.
// On a `make -j2` libuv rebuild (74 hits) keeping them cut the daemon's CPU by about a
// quarter and the rebuild by ~4%; its resident size after six rebuilds was 97 MB against
// 87 MB. Compilers get the request's environment, never the daemon's; the few programs the
// daemon runs with its own environment get it without what a client added for the daemon.

/** Unless the client's environment names its own value. */
export const DAEMON_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "-1" };
/** Set beside it when a client added it, so the daemon can tell it from a user's own. */
export const ALLOCATOR_DEFAULTED_ENV = "ZCCACHE_INTERNAL_ALLOCATOR_DEFAULTED";

type Env = Readonly<Record<string, string | undefined>>;

/** `env` plus the allocator setting, where the environment does not name its own. */
export function withDaemonAllocator(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  if (Object.keys(DAEMON_ALLOCATOR_ENV).some((k) => out[k] !== undefined)) return out;
  return { ...out, ...DAEMON_ALLOCATOR_ENV, [ALLOCATOR_DEFAULTED_ENV]: "1" };
}

/** The daemon's own environment as a program it runs should see it: without what a client added. */
export function withoutDaemonOnly(env: Env): Record<string, string | undefined> {
  const out = { ...env };
  if (out[ALLOCATOR_DEFAULTED_ENV] !== undefined) for (const k of Object.keys(DAEMON_ALLOCATOR_ENV)) delete out[k];
  delete out[ALLOCATOR_DEFAULTED_ENV];
  return out;
}
