// Recursion: `gcc -> zccache` ahead of another wrapper on PATH (Debian's /usr/lib/ccache, a
// hard link or a byte copy of zccache) must reach the real gcc once, not make the wrappers
// run each other. The "real" gcc here is a counting script at the end of the wrappers that
// logs the re-entry marker it was given, then runs /usr/bin/gcc; the client itself runs
// under strace so every program it starts is counted too.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, copyInstallation, hasTool, run, tempDir, ZCCACHE } from "../helpers.ts";
import { bareObject, expectOk } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

const STRACE = Bun.which("strace");
const CCACHE_DIR = "/usr/lib/ccache";
const SRC = "int recursion_guard(int x) { return x * 7 + 1; }\n";

interface Fixture {
  readonly c: CacheEnv;
  /** dirA: gcc -> zccache (a private copy, so dirB can hard-link it on the same filesystem). */
  readonly dirA: string;
  readonly dirB: string;
  readonly dirC: string;
  /** The counting "real" gcc and its log. */
  readonly dirR: string;
  readonly log: string;
  readonly zc: string;
  /** The program that runs as client and daemon: zc itself, or the core the launcher execs. */
  readonly core: string;
}

function fixture(): Fixture {
  const c = new CacheEnv({ CCACHE_DIR: path.join(tempDir("zc-ccache-"), "ccache") });
  const base = tempDir("zc-recursion-");
  const zc = copyInstallation(base);
  const [dirA, dirB, dirC, dirR] = ["a", "b", "c", "r"].map((d) => path.join(base, d)) as [string, string, string, string];
  for (const d of [dirA, dirB, dirC, dirR]) fs.mkdirSync(d);
  fs.symlinkSync(zc, path.join(dirA, "gcc"));
  fs.linkSync(zc, path.join(dirB, "gcc"));
  fs.copyFileSync(zc, path.join(dirC, "gcc"));
  fs.chmodSync(path.join(dirC, "gcc"), 0o755);
  // With the native launcher, each installation is the launcher plus the program it execs
  // from its own directory: the hard link and the copy get theirs too.
  if (fs.existsSync(path.join(base, "zccache-core"))) {
    const core = path.join(base, "zccache-core");
    fs.linkSync(core, path.join(dirB, "zccache-core"));
    fs.copyFileSync(core, path.join(dirC, "zccache-core"));
    fs.chmodSync(path.join(dirC, "zccache-core"), 0o755);
  }
  const log = path.join(base, "real-gcc.log");
  // One line per run: the marker it was given, then its arguments.
  fs.writeFileSync(path.join(dirR, "gcc"), `#!/bin/sh\necho "\${ZCCACHE_REENTERED:-none} $*" >> ${log}\nexec /usr/bin/gcc "$@"\n`, { mode: 0o755 });
  c.write("r.c", SRC);
  const ownCore = path.join(base, "zccache-core");
  return { c, dirA, dirB, dirC, dirR, log, zc, core: fs.existsSync(ownCore) ? ownCore : zc };
}

/** Runs `gcc -c r.c` under strace; the programs the client started (successful execve). */
function compileTraced(f: Fixture, pathVar: string, extraEnv: Record<string, string> = {}): { code: number; err: string; execs: string[] } {
  const trace = path.join(tempDir("zc-trace-"), "trace");
  const r = run([STRACE as string, "-f", "-qq", "-e", "trace=execve", "-o", trace, "gcc", "-c", "r.c", "-o", "r.o"], {
    cwd: f.c.work,
    env: { ...f.c.env, PATH: pathVar, ...extraEnv },
  });
  const execs = fs
    .readFileSync(trace, "utf8")
    .split("\n")
    .filter((l) => l.includes("execve(") && l.endsWith("= 0"))
    .map((l) => /execve\("([^"]*)"/.exec(l)?.[1] ?? "?");
  return { code: r.code, err: r.err, execs };
}

function realRuns(f: Fixture): string[] {
  return fs.existsSync(f.log) ? fs.readFileSync(f.log, "utf8").split("\n").filter((l) => l !== "") : [];
}

/** `dev:ino:size` of the zccache executable, as the marker spells it. */
function idOf(p: string): string {
  const st = fs.statSync(p);
  return `${st.dev}:${st.ino}:${st.size}`;
}

function isWrapper(f: Fixture, exe: string): boolean {
  return exe === f.zc || exe === f.core || exe === ZCCACHE || [f.dirA, f.dirB, f.dirC, CCACHE_DIR].some((d) => exe.startsWith(`${d}/`));
}

function expectBounded(f: Fixture, t: { code: number; err: string; execs: string[] }): void {
  expect(t.err).toBe("");
  expect(t.code).toBe(0);
  expect(f.c.read("r.o").equals(bareObject(f.c.work, "r.c"))).toBe(true);
  // The client was the only zccache started (by us, through dirA); nothing ran a wrapper.
  const wrapperExecs = t.execs.filter((e) => isWrapper(f, e));
  // The launcher may hand over to its own core once (uncached runs); nothing else of ours ran.
  expect(wrapperExecs.filter((e) => e !== f.core || f.core === f.zc)).toEqual([path.join(f.dirA, "gcc")]);
  expect(wrapperExecs.filter((e) => e === f.core).length).toBeLessThanOrEqual(1);
  // The real compiler compiled r.c once; the daemon's probes of it (search list, helper
  // programs) ran at most once each; every run was marked by exactly one zccache.
  const runs = realRuns(f);
  expect(runs.filter((l) => l.includes(" r.c ")).length).toBe(1);
  expect(new Set(runs).size).toBe(runs.length);
  expect(runs.length).toBeLessThanOrEqual(6);
  for (const line of runs) expect(line.split(" ")[0]).toBe(idOf(f.core));
}

describe("recursion guard", () => {
  for (const [name, second] of [
    ["Debian's ccache symlink dir", (_f: Fixture) => CCACHE_DIR],
    ["a hard link of zccache named gcc", (f: Fixture) => f.dirB],
    ["a byte copy of zccache named gcc", (f: Fixture) => f.dirC],
  ] as const) {
    test(`gcc -> zccache ahead of ${name}: one real compile, cached and with ZCCACHE_DISABLE=1`, () => {
      if (STRACE === null || !fs.existsSync(path.join(CCACHE_DIR, "gcc"))) {
        throw new Error("strace and ccache are needed (scripts/ensure-test-tools.sh installs them)");
      }
      const f = fixture();
      const pathVar = [f.dirA, second(f), f.dirR, "/usr/bin", "/bin"].join(":");
      // The daemon runs from the same file as the wrappers, so every marker names that file.
      expectOk(run([f.zc, "start"], { cwd: f.c.work, env: f.c.env }));

      const cached = compileTraced(f, pathVar);
      expectBounded(f, cached);
      const st = f.c.status();
      expect(st.misses + st.uncacheable).toBe(1);

      fs.rmSync(f.log, { force: true });
      fs.rmSync(path.join(f.c.work, "r.o"));
      const local = compileTraced(f, pathVar, { ZCCACHE_DISABLE: "1" });
      expectBounded(f, local);
      expect(realRuns(f).length).toBe(1);
    });
  }

  test("a zccache started by a compiler zccache ran goes straight to the real compiler", () => {
    if (!hasTool("ccache")) throw new Error("ccache is needed (scripts/ensure-test-tools.sh installs it)");
    const f = fixture();
    // `zccache ccache gcc`: ccache is no compiler we know, so the client runs it; ccache
    // finds our gcc -> zccache first on PATH, which must not ask the daemon again.
    const pathVar = [f.dirA, f.dirR, "/usr/bin", "/bin"].join(":");
    const env = { ...f.c.env, PATH: pathVar, CCACHE_DISABLE: "1" };
    expectOk(run([f.zc, "start"], { cwd: f.c.work, env }));
    const r = run([f.zc, "ccache", "gcc", "-c", "r.c", "-o", "r.o"], { cwd: f.c.work, env });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(f.c.read("r.o").equals(bareObject(f.c.work, "r.c"))).toBe(true);
    const st = f.c.status();
    expect([st.hits, st.misses, st.uncacheable]).toEqual([0, 0, 1]);
    const runs = realRuns(f);
    expect(runs.length).toBe(1);
    // Marked by the client that ran ccache, and by the re-entered zccache (the same file).
    // (A re-entered launcher adds its own id before handing over to its core.)
    expect(runs[0]?.split(" ")[0]?.split(",")[0]).toBe(idOf(f.core));
  });

  test("zccache gcc with a gcc -> zccache link first on PATH fingerprints the real compiler behind it", () => {
    // The compiler the daemon hashes must be the one that compiles: were it the zccache link
    // ahead on PATH, a changed real compiler behind it would be served a stale object.
    const f = fixture();
    const dirW = path.join(path.dirname(f.dirA), "w");
    fs.mkdirSync(dirW);
    const real = path.join(dirW, "gcc");
    const wrapper = (v: number): string => `#!/bin/sh\nexec /usr/bin/gcc -DVARIANT=${v} "$@"\n`;
    fs.writeFileSync(real, wrapper(1), { mode: 0o755 });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(real, old, old);
    f.c.write("v.c", "int variant(void) { return VARIANT; }\n");
    fs.utimesSync(path.join(f.c.work, "v.c"), old, old);
    const env = { ...f.c.env, PATH: [f.dirA, dirW, "/usr/bin", "/bin"].join(":") };
    const compile = (): void => {
      expectOk(run([f.zc, "gcc", "-c", "v.c", "-o", "v.o"], { cwd: f.c.work, env }));
    };
    compile();
    compile();
    expect([f.c.status().hits, f.c.status().misses]).toEqual([1, 1]);
    // Same size, an old mtime: only the content says the compiler changed.
    fs.writeFileSync(real, wrapper(2), { mode: 0o755 });
    const older = new Date(Date.now() - 30_000);
    fs.utimesSync(real, older, older);
    compile();
    const st = f.c.status();
    expect([st.hits, st.misses]).toEqual([1, 2]);
    const bare = run(["/usr/bin/gcc", "-DVARIANT=2", "-c", "v.c", "-o", "bare.o"], { cwd: f.c.work });
    expectOk(bare);
    expect(f.c.read("v.o").equals(f.c.read("bare.o"))).toBe(true);
  });
});
