// A silent daemon costs a build seconds, not forever: a `kill -STOP`ped daemon is given up on
// after ZCCACHE_CLIENT_TIMEOUT_SECS, the compile runs locally and is counted, and the daemon
// is replaced; progress frames keep a legitimately slow miss from being cut off; `status` and
// `stop` are bounded too.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bareObject, compileIn, expectOk, waitUntil } from "../assertions.ts";
import { bare, CacheEnv, exited, tempDir } from "../helpers.ts";

/** Daemons this file stopped: resumed (then stopped normally, or killed) at the end. */
const stoppedPids: number[] = [];
const scratch: string[] = [];

afterAll(() => {
  for (const pid of stoppedPids) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // already gone
    }
  }
  CacheEnv.stopAll();
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

const SOURCE = (n: number): string => `int deadline_${n}(int x) { return x * ${n} + 1; }\n`;

/** Starts the env's daemon and freezes it; the kernel still accepts connections for it. */
function startAndStop(c: CacheEnv): number {
  expectOk(c.zc(["start"]));
  const pids = c.daemonPids();
  expect(pids.length).toBe(1);
  const pid = pids[0] as number;
  process.kill(pid, "SIGSTOP");
  stoppedPids.push(pid);
  return pid;
}

describe("client deadline", () => {
  test("a stopped daemon: the compile runs locally, is counted, and a new daemon serves the next one", async () => {
    const c = new CacheEnv({ ZCCACHE_CLIENT_TIMEOUT_SECS: "2" });
    const pid = startAndStop(c);

    c.write("a.c", SOURCE(1));
    const r = expectOk(compileIn(c, "a.c"));
    expect(r.err).toBe("");
    expect(c.read("a.o").equals(bareObject(c.work, "a.c"))).toBe(true);
    // The client killed the silent daemon (it was ours, and older than the request).
    expect(await waitUntil(() => exited(pid), 10_000)).toBe(true);

    const st = c.status();
    expect(st.pid).not.toBe(pid);
    expect(st.reasons["daemon-unresponsive"]).toBe(1);
    expect(st.errors).toBe(1);
    expect(st.misses + st.hits).toBe(0);

    c.write("b.c", SOURCE(2));
    expectOk(compileIn(c, "b.c"));
    expect(c.read("b.o").equals(bareObject(c.work, "b.c"))).toBe(true);
    const after = c.status();
    expect(after.pid).toBe(st.pid);
    expect(after.misses).toBe(1);
    expect(after.reasons["daemon-unresponsive"]).toBe(1);
    expect(c.daemonPids()).toEqual([st.pid]);
  });

  test("a stopped daemon: a failing compile keeps the compiler's exit code and diagnostics", async () => {
    const c = new CacheEnv({ ZCCACHE_CLIENT_TIMEOUT_SECS: "2" });
    const pid = startAndStop(c);
    c.write("bad.c", "int broken(void) { return nope; }\n");
    const z = c.zc(["gcc", "-c", "bad.c", "-o", "bad.o"]);
    const b = bare(["gcc", "-c", "bad.c", "-o", "bad.o"], c.work);
    expect(b.code).not.toBe(0);
    expect(z.code).toBe(b.code);
    expect(z.err).toBe(b.err);
    expect(z.out).toBe(b.out);
    expect(await waitUntil(() => exited(pid), 10_000)).toBe(true);
    expect(c.status().reasons["daemon-unresponsive"]).toBe(1);
  });

  test("a miss slower than the client deadline is not cut off: progress frames keep it alive", () => {
    // 3 s of silence allowed, progress every second, a 6 s compile.
    const c = new CacheEnv({ ZCCACHE_CLIENT_TIMEOUT_SECS: "3" });
    // A real gcc behind a wrapper that sleeps (only for our source) and logs every run of it.
    const tools = tempDir("zc-slowgcc-");
    scratch.push(tools);
    const log = path.join(tools, "runs.log");
    fs.writeFileSync(
      path.join(tools, "gcc"),
      `#!/bin/sh\ncase " $* " in *slow.c*) echo "$*" >> '${log}'; sleep 6;; esac\nexec /usr/bin/gcc "$@"\n`,
      { mode: 0o755 },
    );
    const env = { PATH: `${tools}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    expectOk(c.zc(["start"]));
    const pid = c.daemonPids()[0] as number;

    c.write("slow.c", SOURCE(3));
    const r = expectOk(compileIn(c, "slow.c", env));
    expect(r.err).toBe("");
    expect(c.read("slow.o").equals(bareObject(c.work, "slow.c"))).toBe(true);
    // The compiler ran once: in the daemon, not again locally after a timeout.
    expect(fs.readFileSync(log, "utf8").trim().split("\n").length).toBe(1);
    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.misses).toBe(1);
    expect(st.errors).toBe(0);
    expect(st.reasons["daemon-unresponsive"]).toBeUndefined();
  });

  test("status against a stopped daemon answers with one line in bounded time and leaves it alone", () => {
    const c = new CacheEnv({ ZCCACHE_CLIENT_TIMEOUT_SECS: "2" });
    const pid = startAndStop(c);
    const r = c.zc(["status"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    const lines = r.err.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(`zccache: status: the daemon (pid ${pid}) is not answering`);
    expect(lines[0]).toContain("zccache stop");
    // Only a compile replaces a silent daemon; once resumed, it answers again.
    process.kill(pid, "SIGCONT");
    expect(c.status().pid).toBe(pid);
  });

  test("stop of a stopped daemon kills it after ZCCACHE_STOP_TIMEOUT_SECS and says so", async () => {
    const c = new CacheEnv({ ZCCACHE_STOP_TIMEOUT_SECS: "2" });
    const pid = startAndStop(c);
    const r = expectOk(c.zc(["stop"]));
    expect(r.out).toBe(`zccache daemon ${pid} did not answer within 2 s; killed it (SIGKILL)\n`);
    expect(exited(pid)).toBe(true);
    expect(c.daemonPids()).toEqual([]);
  });
});
