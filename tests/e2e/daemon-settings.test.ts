// Bad settings (an invalid ZCCACHE_* value, a malformed zccache.conf): one clear line naming
// the setting and what it accepts, the compiler's own result, and no daemon spawn per compile.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bareObject, compileIn, expectOk } from "../assertions.ts";
import { bare, CacheEnv, tempDir, ZCCACHE } from "../helpers.ts";

const scratch: string[] = [];
afterAll(() => {
  CacheEnv.stopAll();
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

const SOURCE = (n: number): string => `int setting_${n}(int x) { return x - ${n}; }\n`;

/**
 * A cache env whose daemon spawns go through a script that logs them: a spawn that fails at
 * once (the daemon refusing its config) would otherwise leave no trace to assert on.
 */
function spiedEnv(extra: Record<string, string> = {}): { c: CacheEnv; spawnLog: string } {
  const dir = tempDir("zc-spawnspy-");
  scratch.push(dir);
  const spawnLog = path.join(dir, "spawns.log");
  const spy = path.join(dir, "zccache-daemon");
  fs.writeFileSync(spy, `#!/bin/sh\necho "$*" >> '${spawnLog}'\nexec '${ZCCACHE}' "$@"\n`, { mode: 0o755 });
  return { c: new CacheEnv({ ZCCACHE_DAEMON_BIN: spy, ...extra }), spawnLog };
}

const CASES: readonly { name: string; env: Record<string, string>; line: string }[] = [
  {
    name: "ZCCACHE_CACHE_SIZE=lots",
    env: { ZCCACHE_CACHE_SIZE: "lots" },
    line: "zccache: ZCCACHE_CACHE_SIZE: expected a size like 500M, 10G or a byte count, got 'lots'; compiling without the cache",
  },
  {
    name: "ZCCACHE_DELIVERY=symlink",
    env: { ZCCACHE_DELIVERY: "symlink" },
    line: "zccache: ZCCACHE_DELIVERY: expected copy or hardlink, got 'symlink'; compiling without the cache",
  },
  {
    name: "ZCCACHE_CLIENT_TIMEOUT_SECS=soon",
    env: { ZCCACHE_CLIENT_TIMEOUT_SECS: "soon" },
    line: "zccache: ZCCACHE_CLIENT_TIMEOUT_SECS: expected whole seconds greater than 0, got 'soon'; compiling without the cache",
  },
];

describe("bad settings", () => {
  for (const k of CASES) {
    test(`${k.name} with no daemon: one line per compile, the compiler's result, no daemon spawned`, () => {
      const { c, spawnLog } = spiedEnv(k.env);
      for (let i = 0; i < 2; i++) {
        c.write(`ok${i}.c`, SOURCE(i));
        const r = compileIn(c, `ok${i}.c`);
        expect(r.code).toBe(0);
        expect(r.out).toBe("");
        expect(r.err).toBe(`${k.line}\n`);
        expect(c.read(`ok${i}.o`).equals(bareObject(c.work, `ok${i}.c`))).toBe(true);
      }
      c.write("bad.c", "int broken(void) { return nope; }\n");
      const z = c.zc(["gcc", "-c", "bad.c", "-o", "bad.o"]);
      const b = bare(["gcc", "-c", "bad.c", "-o", "bad.o"], c.work);
      expect(b.code).not.toBe(0);
      expect(z.code).toBe(b.code);
      expect(z.err).toBe(`${k.line}\n${b.err}`);
      expect(fs.existsSync(spawnLog)).toBe(false);
      expect(c.daemonPids()).toEqual([]);
    });
  }

  test("a malformed zccache.conf with no daemon: the line names the file, line and key", () => {
    const { c, spawnLog } = spiedEnv();
    fs.mkdirSync(c.root, { recursive: true });
    const conf = path.join(c.root, "zccache.conf");
    fs.writeFileSync(conf, "# settings\ncache_size = lots\n");
    c.write("f.c", SOURCE(7));
    const r = expectOk(compileIn(c, "f.c"));
    expect(r.err).toBe(
      `zccache: ${conf}:2: cache_size: expected a size like 500M, 10G or a byte count, got 'lots'; compiling without the cache\n`,
    );
    expect(c.read("f.o").equals(bareObject(c.work, "f.c"))).toBe(true);
    expect(fs.existsSync(spawnLog)).toBe(false);
    expect(c.daemonPids()).toEqual([]);
  });

  test("a bad value in a build's env with a daemon running: the daemon says so, the compile runs locally", () => {
    const { c, spawnLog } = spiedEnv();
    expectOk(c.zc(["start"]));
    const pids = c.daemonPids();
    expect(pids.length).toBe(1);
    const pid = pids[0] as number;
    expect(fs.readFileSync(spawnLog, "utf8").trim().split("\n").length).toBe(1);

    for (const k of CASES.slice(0, 2)) {
      c.write("r.c", SOURCE(11));
      const r = compileIn(c, "r.c", k.env);
      expect(r.code).toBe(0);
      expect(r.err).toBe(`${k.line}\n`);
      expect(c.read("r.o").equals(bareObject(c.work, "r.c"))).toBe(true);
    }
    c.write("bad.c", "int broken(void) { return nope; }\n");
    const z = c.zc(["gcc", "-c", "bad.c", "-o", "bad.o"], { env: { ZCCACHE_CACHE_SIZE: "lots" } });
    const b = bare(["gcc", "-c", "bad.c", "-o", "bad.o"], c.work);
    expect(z.code).toBe(b.code);
    expect(z.err).toBe(`${CASES[0]?.line}\n${b.err}`);

    // Same daemon, nothing cached or counted for those compiles; a good env is served again.
    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.misses + st.hits + st.entries).toBe(0);
    expectOk(compileIn(c, "r.c"));
    expect(c.status().misses).toBe(1);
    expect(c.daemonPids()).toEqual([pid]);
    expect(fs.readFileSync(spawnLog, "utf8").trim().split("\n").length).toBe(1);
  });
});
