// `zccache doctor`: one ok/warn/FAIL line per check, exit 1 only when a check fails. Run
// against real setups: a private cache root, bad settings, remotes that answer or do not,
// symlink dirs and a ccache masquerade dir on PATH.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, type RunResult, ZCCACHE, SETTINGS_UNSET } from "../helpers.ts";
import { serverTools, startRedis, startSilentServer, stopAllServers } from "../fixtures/servers.ts";

afterAll(async () => {
  CacheEnv.stopAll();
  await stopAllServers();
});

const UNSET = {
  ...SETTINGS_UNSET,
  ZCCACHE_CLIENT_TIMEOUT_SECS: undefined,
  CC: undefined,
  CXX: undefined,
  RUSTC_WRAPPER: undefined,
  CMAKE_C_COMPILER_LAUNCHER: undefined,
  CMAKE_CXX_COMPILER_LAUNCHER: undefined,
};

const ORIGINAL_PATH = process.env.PATH ?? "/usr/bin:/bin";

function lines(r: RunResult): string[] {
  return r.out.split("\n").filter((l) => l !== "");
}

function show(r: RunResult): string {
  return `exit ${r.code}\nstdout:\n${r.out}\nstderr:\n${r.err}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every line is a check's verdict; none failed. */
function expectHealthy(r: RunResult): void {
  for (const l of lines(r)) expect(l).toMatch(/^(ok {3}|warn )\S/);
  if (r.code !== 0) throw new Error(show(r));
}

describe("zccache doctor", () => {
  test("a healthy setup: only ok and warn lines, exit 0, the daemon named with its version", () => {
    const c = new CacheEnv(UNSET);
    expect(c.zc(["start"]).code).toBe(0);
    const r = c.zc(["doctor"]);
    expectHealthy(r);
    expect(r.out).toMatch(/^ok {3}daemon running \(pid \d+, version [^)]+\)$/m);
    expect(r.out).toMatch(/^ok {3}config valid/m);
    expect(r.out).toMatch(new RegExp(`^ok {3}cache dir ${escape(c.root)} \\(mode 700, writable\\)$`, "m"));
    expect(r.out).toMatch(/^ok {3}runtime dir /m);
    expect(r.out).toMatch(/^(ok {3}|warn )disk space/m);
    // The probe file is gone again.
    expect(fs.readdirSync(c.root).filter((n) => n.startsWith(".doctor-"))).toEqual([]);
  });

  test("a bad config value is a FAIL naming it, exit 1", () => {
    const c = new CacheEnv(UNSET);
    fs.mkdirSync(c.root, { recursive: true });
    fs.writeFileSync(path.join(c.root, "zccache.conf"), "cache_size = banana\n");
    const r = c.zc(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL config: .*zccache\.conf:1: cache_size: .*'banana'/m);
    expect(r.out).not.toMatch(/^ok {3}daemon/m);
  });

  test("unreachable remotes are FAILs naming them without their passwords, exit 1", async () => {
    const silent = await startSilentServer();
    const redisUrl = `redis://alice:hunter2pw@127.0.0.1:${silent.port}`;
    const httpUrl = `http://bob:s3cretpw@127.0.0.1:${silent.port}/cache`;
    const c = new CacheEnv({
      ...UNSET,
      ZCCACHE_REMOTE_STORAGE: `${redisUrl}|connect-timeout=300|operation-timeout=300 ${httpUrl}|operation-timeout=300`,
    });
    const r = c.zc(["doctor"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^FAIL remote redis://alice:\\*@127\\.0\\.0\\.1:${silent.port}: \\S`, "m"));
    expect(r.out).toMatch(new RegExp(`^FAIL remote http://bob:\\*@127\\.0\\.0\\.1:${silent.port}/cache: \\S`, "m"));
    expect(`${r.out}${r.err}`).not.toContain("hunter2pw");
    expect(`${r.out}${r.err}`).not.toContain("s3cretpw");
  });

  test("a reachable redis is ok", async () => {
    if (!serverTools().redis) {
      console.log("skip: redis-server is not installed (scripts/ensure-test-tools.sh)");
      return;
    }
    const redis = await startRedis();
    const c = new CacheEnv({ ...UNSET, ZCCACHE_REMOTE_STORAGE: redis.url });
    const r = c.zc(["doctor"]);
    expectHealthy(r);
    expect(r.out).toMatch(new RegExp(`^ok {3}remote ${escape(redis.url)} \\(answers reads`, "m"));
  });

  test("a symlink dir with gcc -> zccache and no real gcc after it is a FAIL; in front of the real one it is ok", () => {
    const c = new CacheEnv(UNSET);
    const links = c.mkdir("links");
    fs.symlinkSync(path.resolve(ZCCACHE), path.join(links, "gcc"));
    const alone = c.zc(["doctor"], { env: { PATH: links } });
    expect(alone.code).toBe(1);
    expect(alone.out).toMatch(new RegExp(`^FAIL ${escape(path.join(links, "gcc"))} -> zccache: no real gcc after it on PATH`, "m"));

    const real = Bun.which("gcc", { PATH: ORIGINAL_PATH });
    if (real === null) {
      console.log("skip (second half): no gcc on PATH");
      return;
    }
    const first = c.zc(["doctor"], { env: { PATH: `${links}:${ORIGINAL_PATH}` } });
    expectHealthy(first);
    expect(first.out).toMatch(new RegExp(`^ok {3}symlink dir ${escape(links)}: gcc -> /`, "m"));
  });

  test("a ccache masquerade dir first on PATH is a warning", () => {
    const c = new CacheEnv(UNSET);
    const fake = c.mkdir("fake-ccache");
    const ccache = path.join(fake, "ccache");
    fs.writeFileSync(ccache, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const mask = c.mkdir("masquerade");
    fs.symlinkSync(ccache, path.join(mask, "gcc"));
    const r = c.zc(["doctor"], { env: { PATH: `${mask}:${ORIGINAL_PATH}` } });
    expectHealthy(r);
    expect(r.out).toMatch(new RegExp(`^warn ccache links in ${escape(mask)}: a plain 'gcc' runs ccache`, "m"));
  });

  test("CC naming ccache is a warning", () => {
    const c = new CacheEnv({ ...UNSET, CC: "ccache gcc" });
    const r = c.zc(["doctor"]);
    expectHealthy(r);
    expect(r.out).toMatch(/^warn CC=ccache gcc: it runs ccache/m);
  });

  test("a group-writable cache dir is a warning", () => {
    const c = new CacheEnv(UNSET);
    fs.mkdirSync(c.root, { recursive: true });
    fs.chmodSync(c.root, 0o770);
    const r = c.zc(["doctor"]);
    expectHealthy(r);
    expect(r.out).toMatch(new RegExp(`^warn cache dir ${escape(c.root)}: mode 770 lets its group or others in`, "m"));
  });

  test("doctor takes no arguments", () => {
    const r = new CacheEnv(UNSET).zc(["doctor", "--fix"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("doctor takes no arguments");
  });
});
