// The native launcher derives the daemon's endpoint exactly as src/protocol/endpoint.ts does:
// both are fed the same environments and compared (ZCCACHE_LAUNCHER_PRINT_ENDPOINT=1).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { endpointFor } from "../protocol/endpoint.ts";

const binDir = process.env.ZCCACHE_TEST_LAUNCHER_DIR
  || path.dirname(process.env.ZCCACHE_TEST_BIN || path.join(import.meta.dir, "..", "..", "dist", "zccache"));
const launchers = ["zccache", "zccache-asan"].map((n) => path.join(binDir, n));
// Only a launcher understands ZCCACHE_LAUNCHER_PRINT_ENDPOINT: the TypeScript program would
// really compile with these made-up cache roots (/a/c/d, /c1, …). Refuse before running one.
if (!fs.existsSync(path.join(binDir, "zccache-core")) || !fs.existsSync(path.join(binDir, "zccache-asan"))) {
  throw new Error(`${binDir} holds no native launcher build: run 'npm run build' on a machine with cc`);
}
const base = fs.mkdtempSync(path.join(os.tmpdir(), "zc-endpoint-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

type Env = Record<string, string | undefined>;

function launcherEndpoint(launcher: string, env: Env, cwd: string): string[] {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const r = Bun.spawnSync([launcher, "gcc", "-c", "x.c"], { cwd, env: { ...clean, ZCCACHE_LAUNCHER_PRINT_ENDPOINT: "1" } });
  expect(r.stderr.toString()).toBe("");
  return r.stdout.toString().split("\n").slice(0, 3);
}

function mkdir(rel: string, mode: number): string {
  const p = path.join(base, rel);
  fs.mkdirSync(p, { recursive: true });
  fs.chmodSync(p, mode);
  return p;
}

describe("launcher endpoint", () => {
  const work = mkdir("work", 0o755);
  const privateRt = mkdir("rt-private", 0o700);
  const openRt = mkdir("rt-open", 0o755);
  const xdgRuntime = mkdir("xdg-run", 0o700);
  const linkRt = path.join(base, "rt-link");
  fs.symlinkSync(privateRt, linkRt);
  const cacheWithRun = path.join(base, "cache-with-run");
  mkdir("cache-with-run/run", 0o700);
  const noRuntime = { ZCCACHE_RUNTIME_DIR: privateRt, XDG_RUNTIME_DIR: undefined };
  const cases: Env[] = [
    { ...noRuntime, ZCCACHE_CACHE_DIR: "/a/b/../c/./d/", HOME: "/h" },
    { ...noRuntime, ZCCACHE_CACHE_DIR: "rel/../x/y", HOME: "/h" },
    { ...noRuntime, ZCCACHE_CACHE_DIR: "../../..", HOME: "/h" },
    { ...noRuntime, ZCCACHE_CACHE_DIR: "", XDG_CACHE_HOME: "/xdg//cache/", HOME: "/h" },
    { ...noRuntime, XDG_CACHE_HOME: "relative", HOME: "/home/u/" },
    { ...noRuntime, HOME: "" },
    { ...noRuntime, HOME: undefined },
    { ...noRuntime, ZCCACHE_CACHE_DIR: "/caché/\u{1F600} x" },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: "" },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: path.join(base, "absent") },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: openRt },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: linkRt },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: openRt, XDG_RUNTIME_DIR: `${xdgRuntime}//` },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: openRt, XDG_RUNTIME_DIR: openRt },
    { ZCCACHE_CACHE_DIR: cacheWithRun, ZCCACHE_RUNTIME_DIR: openRt, XDG_RUNTIME_DIR: "relative" },
    { ZCCACHE_CACHE_DIR: "/c1", ZCCACHE_RUNTIME_DIR: `/tmp/${"d".repeat(90)}` },
    { ZCCACHE_CACHE_DIR: "/", ZCCACHE_RUNTIME_DIR: openRt },
  ];

  for (const launcher of launchers) {
    test(`${path.basename(launcher)} agrees with endpointFor on ${cases.length} environments`, () => {
      expect(fs.existsSync(launcher)).toBe(true);
      for (const env of cases) {
        const full: Env = { PATH: process.env.PATH, ...env };
        const ts = endpointFor(full, work);
        expect(launcherEndpoint(launcher, full, work)).toEqual([ts.cacheRoot, ts.runtimeDir, ts.socketPath]);
      }
    });
  }
});
