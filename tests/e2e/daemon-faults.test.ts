// Faults around the daemon never fail a build: an unusable cache dir, a missing daemon
// binary, a daemon killed mid-build, and caching switched off (or misconfigured).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, daemonPidsFor, exitedAllThreads, tempDir } from "../helpers.ts";
import { bareObject, compileIn, expectOk, waitUntil } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

describe("faults never fail a build", () => {
  test("an unwritable cache dir: compile succeeds, status says the store is unavailable", () => {
    const base = tempDir("zc-unwritable-");
    const afile = path.join(base, "afile");
    fs.writeFileSync(afile, "a regular file, not a directory\n");
    const root = path.join(afile, "cache");
    const c = new CacheEnv({ ZCCACHE_CACHE_DIR: root });

    c.write("u.c", "int unwritable(int x) { return x + 1; }\n");
    const r = compileIn(c, "u.c");
    expectOk(r);
    expect(c.read("u.o").equals(bareObject(c.work, "u.c"))).toBe(true);
    // Again: still right, still nothing cached.
    fs.rmSync(path.join(c.work, "u.o"));
    expectOk(compileIn(c, "u.c"));
    expect(c.read("u.o").equals(bareObject(c.work, "u.c"))).toBe(true);

    const st = c.status();
    expect(st.cache_dir).toBe(root);
    expect(st.store.startsWith("unavailable:")).toBe(true);
    expect(st.hits).toBe(0);
    expect(st.entries).toBe(0);
    expect(st.reasons["cache-unavailable"]).toBe(2);
    expect(daemonPidsFor(root)).toEqual([st.pid]);
    // The regular file is untouched.
    expect(fs.readFileSync(afile, "utf8")).toBe("a regular file, not a directory\n");
  });

  test("ZCCACHE_DAEMON_BIN=/nonexistent: compiles succeed without a daemon", () => {
    const c = new CacheEnv({ ZCCACHE_DAEMON_BIN: "/nonexistent" });
    for (const n of [1, 2]) {
      c.write(`m${n}.c`, `int missing_bin_${n}(void) { return ${n}; }\n`);
      const r = compileIn(c, `m${n}.c`);
      expectOk(r);
      expect(c.read(`m${n}.o`).equals(bareObject(c.work, `m${n}.c`))).toBe(true);
    }
    expect(c.daemonPids()).toEqual([]);
    // A failing compile still reports the compiler's own failure, not ours.
    c.write("bad.c", "int broken( { return; }\n");
    const bad = compileIn(c, "bad.c");
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("bad.c");
    expect(c.daemonPids()).toEqual([]);
  });

  test("a daemon kill -9'd between two compiles", async () => {
    const c = new CacheEnv();
    c.write("k.c", "int killed(int x) { return x * 3; }\n");
    expectOk(compileIn(c, "k.c"));
    const pids = c.daemonPids();
    expect(pids.length).toBe(1);
    process.kill(pids[0] as number, "SIGKILL");
    // Every thread gone, not a vanished command line: see daemon-lifecycle's kill -9 test.
    expect(await waitUntil(() => exitedAllThreads(pids[0] as number), 10_000)).toBe(true);

    c.write("k2.c", "int killed2(int x) { return x * 5; }\n");
    fs.rmSync(path.join(c.work, "k.o"));
    expectOk(compileIn(c, "k.c"));
    expectOk(compileIn(c, "k2.c"));
    expect(c.read("k.o").equals(bareObject(c.work, "k.c"))).toBe(true);
    expect(c.read("k2.o").equals(bareObject(c.work, "k2.c"))).toBe(true);
    const after = c.daemonPids();
    expect(after.length).toBe(1);
    expect(after[0]).not.toBe(pids[0]);
  });

  test("ZCCACHE_DISABLE=1: pure passthrough, no daemon", () => {
    // CacheEnv drops ZCCACHE_DISABLE from its base env, so it is set per call.
    const c = new CacheEnv();
    c.write("d.c", "int disabled(void) { return 7; }\n");
    const r = compileIn(c, "d.c", { ZCCACHE_DISABLE: "1" });
    expectOk(r);
    expect(r.err).toBe("");
    expect(c.read("d.o").equals(bareObject(c.work, "d.c"))).toBe(true);
    expect(c.daemonPids()).toEqual([]);
    expect(fs.existsSync(c.root)).toBe(false);
    // The compiler's exit status and diagnostics pass straight through.
    c.write("bad.c", "int broken( { return; }\n");
    const bad = compileIn(c, "bad.c", { ZCCACHE_DISABLE: "1" });
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("bad.c");
    expect(c.daemonPids()).toEqual([]);
  });

  test("ZCCACHE_DISABLE=banana: compile succeeds with a one-line complaint", () => {
    const c = new CacheEnv();
    c.write("b.c", "int banana(void) { return 9; }\n");
    const r = compileIn(c, "b.c", { ZCCACHE_DISABLE: "banana" });
    expectOk(r);
    expect(c.read("b.o").equals(bareObject(c.work, "b.c"))).toBe(true);
    const lines = r.err.split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("ZCCACHE_DISABLE");
    expect(lines[0]).toContain("banana");
  });
});
