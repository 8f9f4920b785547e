import { expect, test } from "bun:test";
import { ALLOCATOR_DEFAULTED_ENV, withDaemonAllocator, withoutDaemonOnly } from "./daemon-env.ts";

test("a spawned daemon gets the allocator setting, marked as ours, unless the environment names its own", () => {
  const added = withDaemonAllocator({ PATH: "/usr/bin", GONE: undefined });
  expect(added).toEqual({ PATH: "/usr/bin", MIMALLOC_PURGE_DELAY: "-1", [ALLOCATOR_DEFAULTED_ENV]: "1" });
  expect(withDaemonAllocator({ PATH: "/usr/bin", MIMALLOC_PURGE_DELAY: "25" })).toEqual({ PATH: "/usr/bin", MIMALLOC_PURGE_DELAY: "25" });
});

test("programs the daemon runs with its own environment never see what a client added, but do see a user's own value", () => {
  expect(withoutDaemonOnly(withDaemonAllocator({ PATH: "/usr/bin" }))).toEqual({ PATH: "/usr/bin" });
  expect(withoutDaemonOnly(withDaemonAllocator({ PATH: "/usr/bin", MIMALLOC_PURGE_DELAY: "-1" }))).toEqual({ PATH: "/usr/bin", MIMALLOC_PURGE_DELAY: "-1" });
});
