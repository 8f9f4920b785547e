// `zccache config`: every effective setting with its value and source (default, file, env);
// unknown keys and malformed values are reported with file and line; a malformed config
// keeps the daemon from starting, while compiles still succeed uncached.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, tempDir, SETTINGS_UNSET } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

const IS_ROOT = (process.getuid?.() ?? -1) === 0;

const UNSET = SETTINGS_UNSET;

function writeConf(c: CacheEnv, text: string): string {
  fs.mkdirSync(c.root, { recursive: true });
  const file = path.join(c.root, "zccache.conf");
  fs.writeFileSync(file, text);
  return file;
}

describe("zccache config", () => {
  test("defaults, then the file, then the environment, each with its source", () => {
    const c = new CacheEnv(UNSET);
    const def = expectOk(c.zc(["config"]), "config");
    const defLines = def.out.split("\n").filter((l) => l !== "");
    // cache_dir is not a config-file key; its line names the root (a source is optional).
    expect(defLines[0]).toMatch(new RegExp(`^cache_dir = ${c.root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( \\((default|env)\\))?$`));
    expect(defLines.slice(1)).toEqual([
      "idle_timeout_secs = 3600 (default)",
      "delivery = copy (default)",
      "cache_size = 10737418240 (default)",
      "log_level = info (default)",
      "base_dir =  (default)",
      "path_remap = 0 (default)",
      "remote_storage =  (default)",
      "remote_secret =  (default)",
      "prefix_command =  (default)",
      "max_age = 0 (default)",
      "compression_level = 1 (default)",
      "preprocessor_fallback = 0 (default)",
      "verify_rate = 0 (default)",
    ]);

    writeConf(
      c,
      "# settings\n\ndelivery = hardlink\nlog_level = debug\n  cache_size = 2G  \nbase_dir = /srv/a:/srv/b/\n" +
        "remote_storage = redis://:pw@cache.example:6379|read-only http://h/c|layout=bazel\nremote_secret = s3cret\nmax_age = 2w\n" +
        "verify_rate = 0.25\n",
    );
    const file = expectOk(
      c.zc(["config"], {
        env: { ZCCACHE_IDLE_TIMEOUT_SECS: "120", ZCCACHE_LOG_LEVEL: "error", ZCCACHE_PATH_REMAP: "1", ZCCACHE_PREFIX: "distcc", ZCCACHE_COMPRESSION_LEVEL: "0", ZCCACHE_PREPROCESSOR_FALLBACK: "1" },
      }),
      "config",
    );
    const fileLines = file.out.split("\n").filter((l) => l !== "");
    expect(fileLines[0]).toBe(defLines[0]);
    expect(fileLines.slice(1)).toEqual([
      "idle_timeout_secs = 120 (env)",
      // Root ignores read-only bits, so hardlinks would let an in-place edit reach the cache.
      IS_ROOT ? "delivery = copy (hardlink requested via file; falls back to copy when running as root)" : "delivery = hardlink (file)",
      "cache_size = 2147483648 (file)",
      "log_level = error (env)",
      "base_dir = /srv/a:/srv/b (file)",
      "path_remap = 1 (env)",
      // Credentials and the secret are never printed.
      "remote_storage = redis://:*@cache.example:6379 http://h/c (file)",
      "remote_secret = (set) (file)",
      "prefix_command = distcc (env)",
      "max_age = 1209600 (file)",
      "compression_level = 0 (env)",
      "preprocessor_fallback = 1 (env)",
      "verify_rate = 0.25 (file)",
    ]);
    expect(file.out).not.toContain("s3cret");
    expect(file.out).not.toContain("pw@");

    // The daemon runs with the same effective settings.
    const st = c.status();
    expect(st.delivery).toBe(IS_ROOT ? "copy" : "hardlink");
    expect(st.delivery_requested).toBe("hardlink");
    expect(st.cache_size_limit_bytes).toBe(2 * 1024 ** 3);
    expect(st.idle_timeout_secs).toBe(3600);
  });

  test("an unknown key is reported with the file and line", () => {
    const c = new CacheEnv(UNSET);
    const file = writeConf(c, "delivery = copy\n# a comment\nbogus_key = 1\n");
    const r = c.zc(["config"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${file}:3`);
    expect(r.err).toContain("bogus_key");
  });

  test("malformed values and lines are reported with the file and line", () => {
    const c = new CacheEnv(UNSET);
    const cases: [string, number, string][] = [
      ["idle_timeout_secs = 60\ncache_size = lots\n", 2, "cache_size"],
      ["delivery = symlink\n", 1, "delivery"],
      ["\n\n\nlog_level = loud\n", 4, "log_level"],
      ["idle_timeout_secs = soon\n", 1, "idle_timeout_secs"],
      ["delivery = copy\njust some words\n", 2, ""],
    ];
    for (const [text, line, key] of cases) {
      const file = writeConf(c, text);
      const r = c.zc(["config"]);
      expect(`${JSON.stringify(text)} -> exit ${r.code === 0 ? 0 : "non-zero"}`).toBe(`${JSON.stringify(text)} -> exit non-zero`);
      expect(r.err).toContain(`${file}:${line}`);
      expect(r.err).toContain(key);
    }
    // A malformed value in the environment is reported by its variable.
    fs.rmSync(path.join(c.root, "zccache.conf"));
    const env = c.zc(["config"], { env: { ZCCACHE_CACHE_SIZE: "huge" } });
    expect(env.code).not.toBe(0);
    expect(env.err).toContain("ZCCACHE_CACHE_SIZE");
  });

  // Each call is bounded well under the client's 15 s wait for a daemon: a client that
  // waited for a daemon that can never start would take that long.
  test(
    "a malformed config keeps the daemon from starting; compiles still succeed, uncached",
    () => {
      const c = new CacheEnv(UNSET);
      const zc = (args: string[]): ReturnType<CacheEnv["zc"]> => {
        const t = Date.now();
        const r = c.zc(args);
        expect({ args, waitedLong: Date.now() - t >= 10_000 }).toEqual({ args, waitedLong: false });
        return r;
      };
      const file = writeConf(c, "delivery = copy\ncache_size = -5\n");
      c.write("u.c", "int u_fn(int x) { return x - 9; }\n");

      const bareDir = tempDir("zc-obs-bare-");
      fs.copyFileSync(path.join(c.work, "u.c"), path.join(bareDir, "u.c"));
      expectOk(bare(["gcc", "-c", "u.c", "-o", "u.o"], bareDir), "bare gcc");
      const want = fs.readFileSync(path.join(bareDir, "u.o"));

      for (let i = 0; i < 2; i++) {
        fs.rmSync(path.join(c.work, "u.o"), { force: true });
        expectOk(zc(["gcc", "-c", "u.c", "-o", "u.o"]), "gcc u.c with a malformed config");
        expect(c.read("u.o").equals(want)).toBe(true);
      }
      expect(c.daemonPids()).toEqual([]);
      // Nothing was stored: no index, no blobs.
      expect(fs.existsSync(path.join(c.root, "index.sqlite"))).toBe(false);
      expect(fs.existsSync(path.join(c.root, "blobs"))).toBe(false);

      const st = zc(["status"]);
      expect(st.code).not.toBe(0);
      expect(st.err).toContain(`${file}:2`);
      expect(st.err).toContain("cache_size");
      const js = zc(["status", "--json"]);
      expect(js.code).not.toBe(0);
      expect(js.out).toBe("");
      expect(js.err).toContain(`${file}:2`);
      const start = zc(["start"]);
      expect(start.code).not.toBe(0);
      expect(start.err).toContain(`${file}:2`);
      expect(c.daemonPids()).toEqual([]);

      // Fixing the file lets the daemon start and cache again.
      writeConf(c, "delivery = copy\ncache_size = 5M\n");
      expectOk(zc(["gcc", "-c", "u.c", "-o", "u.o"]), "gcc u.c with a fixed config");
      const ok = c.status();
      expect(ok.cache_size_limit_bytes).toBe(5 * 1024 * 1024);
      expect(ok.misses).toBe(1);
      expect(ok.entries).toBe(1);
    },
    90_000,
  );
});
