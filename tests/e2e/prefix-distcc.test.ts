// ZCCACHE_PREFIX (ccache's CCACHE_PREFIX): a C/C++ miss compiles through the prefix (here
// distcc, against a real distccd on 127.0.0.1), a hit never runs it, the key ignores it, and
// a prefix that cannot run is left out without failing the build.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, missing, type RunResult, ZCCACHE } from "../helpers.ts";
import { type Delta, diff, readOrNull, rm } from "../assertions.ts";
import { type DistccServer, serverTools, startDistccd, stopAllServers } from "../fixtures/servers.ts";

const env = new CacheEnv();
afterAll(async () => {
  await stopAllServers();
  CacheEnv.stopAll();
});

const haveDistcc = serverTools().distcc;
let distccd: DistccServer | null = null;

beforeAll(async () => {
  if (!haveDistcc) {
    missing("distcc/distccd are not installed", "ZCCACHE_PREFIX suite");
    return;
  }
  distccd = await startDistccd();
});

function server(): DistccServer {
  if (distccd === null) throw new Error("distccd did not start");
  return distccd;
}

/** The build's environment for a compile through distcc (no local fallback: that would be a failure). */
function viaDistcc(): Record<string, string> {
  return { ZCCACHE_PREFIX: "distcc", ...server().clientEnv };
}

function source(name: string, body: string): string {
  env.write(name, `/* ${name} */\n${body}\n`);
  return name;
}

const ARGS = (src: string): string[] => ["gcc", "-O2", "-c", src, "-o", src.replace(/\.c$/, ".o")];

/** `zccache gcc …` with the status delta across it. */
function zcMeasured(args: readonly string[], extraEnv: Record<string, string> = {}): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { env: extraEnv });
  return { r, d: diff(before, env.status()) };
}

function outcome(d: Delta): { hits: number; misses: number; uncacheable: number; errors: number } {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors };
}

/** The object a bare gcc writes for the same command in the same directory. */
function bareObject(src: string): Buffer {
  const obj = path.join(env.work, src.replace(/\.c$/, ".o"));
  const saved = readOrNull(obj);
  rm(obj);
  const b = bare(ARGS(src), env.work);
  expect({ code: b.code, err: b.err }).toEqual({ code: 0, err: "" });
  const out = fs.readFileSync(obj);
  if (saved !== null) fs.writeFileSync(obj, saved);
  return out;
}

function objectOf(src: string): Buffer | null {
  return readOrNull(path.join(env.work, src.replace(/\.c$/, ".o")));
}

describe("ZCCACHE_PREFIX=distcc", () => {
  test("each miss compiles on distccd, each hit runs nothing; objects identical to a bare gcc", async () => {
    if (!haveDistcc) return;
    const files = [
      source("alpha.c", "int alpha(int x) { return x * 3 + 1; }"),
      source("beta.c", "#include <string.h>\nunsigned long beta(const char *s) { return strlen(s) * 2; }"),
      source("gamma.c", "#include <stdio.h>\nint gamma_(void) { return printf(\"%d\\n\", 42); }"),
    ];
    for (const src of files) {
      const jobsBefore = server().jobsRun();
      const bareObj = bareObject(src);
      rm(path.join(env.work, src.replace(/\.c$/, ".o")));

      const miss = zcMeasured(ARGS(src), viaDistcc());
      expect({ src, code: miss.r.code, err: miss.r.err }).toEqual({ src, code: 0, err: "" });
      expect({ src, ...outcome(miss.d) }).toEqual({ src, hits: 0, misses: 1, uncacheable: 0, errors: 0 });
      expect(await server().waitForJobs(jobsBefore + 1)).toBe(jobsBefore + 1);
      expect(objectOf(src)?.equals(bareObj)).toBe(true);

      rm(path.join(env.work, src.replace(/\.c$/, ".o")));
      const hit = zcMeasured(ARGS(src), viaDistcc());
      expect({ src, code: hit.r.code, err: hit.r.err }).toEqual({ src, code: 0, err: "" });
      expect({ src, ...outcome(hit.d) }).toEqual({ src, hits: 1, misses: 0, uncacheable: 0, errors: 0 });
      expect(server().jobsRun()).toBe(jobsBefore + 1);
      expect(objectOf(src)?.equals(bareObj)).toBe(true);
    }
  });

  test("the user's -MD depfile comes out of a distcc miss as gcc writes it, and is replayed on a hit", async () => {
    if (!haveDistcc) return;
    const src = source("delta.c", "#include <stddef.h>\nsize_t delta(void) { return sizeof(int); }");
    const args = ["gcc", "-O2", "-MD", "-MF", "delta.d", "-c", src, "-o", "delta.o"];
    const depfile = path.join(env.work, "delta.d");
    rm(depfile, path.join(env.work, "delta.o"));
    expect(bare(args, env.work).code).toBe(0);
    const bareDep = fs.readFileSync(depfile);
    const bareObj = fs.readFileSync(path.join(env.work, "delta.o"));
    rm(depfile, path.join(env.work, "delta.o"));

    const jobsBefore = server().jobsRun();
    const miss = zcMeasured(args, viaDistcc());
    expect({ code: miss.r.code, err: miss.r.err }).toEqual({ code: 0, err: "" });
    expect(outcome(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expect(await server().waitForJobs(jobsBefore + 1)).toBe(jobsBefore + 1);
    expect(readOrNull(depfile)?.toString()).toBe(bareDep.toString());
    expect(objectOf(src)?.equals(bareObj)).toBe(true);

    rm(depfile, path.join(env.work, "delta.o"));
    const hit = zcMeasured(args, viaDistcc());
    expect(outcome(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expect(server().jobsRun()).toBe(jobsBefore + 1);
    expect(readOrNull(depfile)?.toString()).toBe(bareDep.toString());
    expect(objectOf(src)?.equals(bareObj)).toBe(true);
  });

  test("the key ignores the prefix: a compile through distcc, then the same without a prefix, hits (and the reverse)", async () => {
    if (!haveDistcc) return;
    const withFirst = source("epsilon.c", "int epsilon(int a, int b) { return a ^ b; }");
    const jobsBefore = server().jobsRun();
    expect(outcome(zcMeasured(ARGS(withFirst), viaDistcc()).d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expect(await server().waitForJobs(jobsBefore + 1)).toBe(jobsBefore + 1);
    rm(path.join(env.work, "epsilon.o"));
    const plain = zcMeasured(ARGS(withFirst));
    expect(plain.r.code).toBe(0);
    expect(outcome(plain.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expect(objectOf(withFirst)?.equals(bareObject(withFirst))).toBe(true);

    const withoutFirst = source("zeta.c", "int zeta(int a) { return a - 7; }");
    expect(outcome(zcMeasured(ARGS(withoutFirst)).d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    rm(path.join(env.work, "zeta.o"));
    const prefixed = zcMeasured(ARGS(withoutFirst), viaDistcc());
    expect(outcome(prefixed.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expect(server().jobsRun()).toBe(jobsBefore + 1);
    expect(objectOf(withoutFirst)?.equals(bareObject(withoutFirst))).toBe(true);
  });
});

describe("a prefix that is a shell script without #!", () => {
  // The kernel will not run it (ENOEXEC); a build's shell would, and so does the compile
  // through the cache (the guard the daemon runs compilers through falls back to /bin/sh).
  test("by path and by name on PATH: it runs, the miss is stored, the object is identical", () => {
    const marks = path.join(env.work, "prefix-runs");
    const script = env.write("plain-prefix", `echo "$*" >> '${marks}'\nexec "$@"\n`);
    fs.chmodSync(script, 0o755);
    const cases: [string, Record<string, string>][] = [
      ["lambda", { ZCCACHE_PREFIX: script }],
      ["mu", { ZCCACHE_PREFIX: "plain-prefix", PATH: `${env.work}:${process.env.PATH ?? "/usr/bin:/bin"}` }],
    ];
    for (const [name, prefixEnv] of cases) {
      const src = source(`${name}.c`, `int ${name}(int v) { return v * 7; }`);
      const bareObj = bareObject(src);
      rm(path.join(env.work, `${name}.o`));
      const miss = zcMeasured(ARGS(src), prefixEnv);
      expect({ name, code: miss.r.code, err: miss.r.err }).toEqual({ name, code: 0, err: "" });
      expect(outcome(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
      expect(objectOf(src)?.equals(bareObj)).toBe(true);
      // The prefix ran the compile.
      expect(fs.readFileSync(marks, "utf8")).toContain(`${name}.c`);
    }
  });
});

describe("an unusable prefix is left out", () => {
  test("a prefix that is not on PATH: the compile runs without it, once reported, exit 0, object identical", () => {
    const bad = { ZCCACHE_PREFIX: "zccache-test-no-such-prefix --flag" };
    const first = source("eta.c", "int eta(int v) { return v << 2; }");
    const bareObj = bareObject(first);
    rm(path.join(env.work, "eta.o"));
    const miss = zcMeasured(ARGS(first), bad);
    expect({ code: miss.r.code, err: miss.r.err }).toEqual({ code: 0, err: "" });
    // A problem inside the cache, not the build's: counted as an internal error, said once.
    expect(outcome(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 1 });
    expect(miss.d.reasons).toEqual({ "new-source": 1, internal: 1 });
    expect(objectOf(first)?.equals(bareObj)).toBe(true);

    const second = source("theta.c", "int theta(int v) { return v >> 1; }");
    const again = zcMeasured(ARGS(second), bad);
    expect(again.r.code).toBe(0);
    expect(outcome(again.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expect(objectOf(second)?.equals(bareObject(second))).toBe(true);
  });

  test("a prefix that is zccache itself would recurse: the compile runs without it", () => {
    const self = { ZCCACHE_PREFIX: ZCCACHE };
    const src = source("iota.c", "int iota(int v) { return v + 100; }");
    const bareObj = bareObject(src);
    rm(path.join(env.work, "iota.o"));
    const miss = zcMeasured(ARGS(src), self);
    expect({ code: miss.r.code, err: miss.r.err }).toEqual({ code: 0, err: "" });
    expect(outcome(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 1 });
    expect(miss.d.reasons).toEqual({ "new-source": 1, internal: 1 });
    expect(objectOf(src)?.equals(bareObj)).toBe(true);
  });

  test("a prefix that speaks (distcc falling back locally, with its own messages): the result is not stored", () => {
    if (!haveDistcc) return;
    // No reachable host, fallback allowed: distcc compiles here and says so on stderr.
    const noisy = { ...server().clientEnv, ZCCACHE_PREFIX: "distcc", DISTCC_HOSTS: "127.0.0.1:1", DISTCC_FALLBACK: "1", DISTCC_SKIP_LOCAL_RETRY: "0" };
    const src = source("kappa.c", "int kappa(int v) { return v * 3; }");
    const bareObj = bareObject(src);
    rm(path.join(env.work, "kappa.o"));
    const first = zcMeasured(ARGS(src), noisy);
    expect(first.r.code).toBe(0);
    expect(first.r.err).toContain("distcc[");
    expect(outcome(first.d)).toEqual({ hits: 0, misses: 0, uncacheable: 1, errors: 0 });
    expect(first.d.reasons).toEqual({ "prefix-output": 1 });
    expect(objectOf(src)?.equals(bareObj)).toBe(true);
    // Nothing was stored: the same compile without a prefix is a miss with a clean stderr.
    const plain = zcMeasured(ARGS(src));
    expect({ code: plain.r.code, err: plain.r.err }).toEqual({ code: 0, err: "" });
    expect(outcome(plain.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
  });
});
