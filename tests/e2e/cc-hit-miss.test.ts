// First compile misses, second hits; a hit replays the object, stdout, stderr and exit code
// exactly as a bare compile of the same command produces them; failed compiles are never cached.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult } from "../helpers.ts";
import { type Delta, diff, expectSameBytes, expectSameRun, readOrNull, rm } from "../assertions.ts";

const env = new CacheEnv();
// Stop this file's daemon when the file ends (the harness cannot register this hook itself).
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----



/** Runs `zccache args…` in `cwd` and returns the result with the status delta across it. */
function zcMeasured(args: readonly string[], cwd: string, stdin?: string): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd, stdin });
  const d = diff(before, env.status());
  return { r, d };
}

function counters(d: Delta): { hits: number; misses: number; uncacheable: number; errors: number; reasons: Record<string, number> } {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors, reasons: d.reasons };
}





function subdir(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

// ---- suites ----

interface Cc {
  readonly name: string;
  readonly cc: string;
  readonly ext: string;
  readonly lang: "c" | "c++";
}

const COMPILERS: readonly Cc[] = [
  { name: "gcc", cc: "gcc", ext: "c", lang: "c" },
  { name: "g++", cc: "g++", ext: "cpp", lang: "c++" },
  { name: "clang", cc: "clang", ext: "c", lang: "c" },
];

for (const c of COMPILERS) {
  describe(`${c.name}`, () => {
    const dir = subdir(c.name.replace(/\+/g, "p"));
    const src = `ok.${c.ext}`;
    fs.writeFileSync(
      path.join(dir, src),
      `/* ${c.name} */\nstatic int helper(int v) { return v * 3; }\nint answer(int x) { return helper(x) + 42; }\n`,
    );

    test("first compile misses, second hits, object identical to a bare compile", () => {
      const args = [c.cc, "-O2", "-c", src, "-o", "ok.o"];
      const obj = path.join(dir, "ok.o");
      rm(obj);
      const first = zcMeasured(args, dir);
      expect(first.r.code).toBe(0);
      expect(counters(first.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
      expect(first.d.languages).toEqual({ [c.lang]: { misses: 1 } });
      expect(first.d.entries).toBe(1);
      const missObj = readOrNull(obj);
      expect(missObj).not.toBeNull();
      // On disk the object may be compressed; what the store holds is at least the object.
      expect(first.d.bytes).toBeGreaterThan(0);
      expect(Number(env.status().uncompressed_bytes)).toBeGreaterThanOrEqual((missObj as Buffer).length);

      rm(obj);
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      const bareObj = readOrNull(obj);
      expectSameBytes(missObj, bareObj, "object written on a miss");

      rm(obj);
      const second = zcMeasured(args, dir);
      expect(second.r.code).toBe(0);
      expect(counters(second.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expect(second.d.languages).toEqual({ [c.lang]: { hits: 1 } });
      expect(second.d.entries).toBe(0);
      expect(second.d.bytes).toBe(0);
      expectSameRun(second.r, b, "hit");
      expectSameBytes(readOrNull(obj), bareObj, "object restored on a hit");

      // A hit over an existing (stale, different) object replaces it.
      fs.writeFileSync(obj, "stale");
      const third = zcMeasured(args, dir);
      expect(counters(third.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expectSameBytes(readOrNull(obj), bareObj, "object restored over a stale file");
    });

    // Debug info records the command line (gcc: DW_AT_producer): anything the cache adds to
    // a compile (depfile or trace flags) must not leak into the object.
    for (const extra of [["-g"], ["-g", "-MMD"], ["-g", "-MD", "-MF", "dbg.d"]]) {
      test(`debug info (${extra.join(" ")}): miss and hit objects identical to a bare compile`, () => {
        const args = [c.cc, "-O1", ...extra, "-c", src, "-o", "dbg.o"];
        const obj = path.join(dir, "dbg.o");
        rm(obj);
        const b = bare(args, dir);
        expect(b.code).toBe(0);
        const bareObj = readOrNull(obj);
        rm(obj);
        const first = zcMeasured(args, dir);
        expect(first.d.misses).toBe(1);
        expectSameBytes(readOrNull(obj), bareObj, "debug object on a miss");
        rm(obj);
        const second = zcMeasured(args, dir);
        expect(second.d.hits).toBe(1);
        expectSameBytes(readOrNull(obj), bareObj, "debug object on a hit");
      });
    }

    test("default output name (no -o) misses then hits", () => {
      const args = [c.cc, "-c", src];
      const obj = path.join(dir, "ok.o");
      rm(obj);
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      const bareObj = readOrNull(obj);
      rm(obj);
      const first = zcMeasured(args, dir);
      expect(counters(first.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
      expectSameBytes(readOrNull(obj), bareObj, "default-named object on a miss");
      rm(obj);
      const second = zcMeasured(args, dir);
      expect(counters(second.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expectSameRun(second.r, b, "hit");
      expectSameBytes(readOrNull(obj), bareObj, "default-named object on a hit");
    });

    test("a -Wall warning is replayed byte-for-byte on a hit", () => {
      const wsrc = `warn.${c.ext}`;
      fs.writeFileSync(path.join(dir, wsrc), "int warned(void) {\n  int unused_thing;\n  return 7;\n}\n");
      const args = [c.cc, "-Wall", "-c", wsrc, "-o", "warn.o"];
      const obj = path.join(dir, "warn.o");
      rm(obj);
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      expect(b.err).toContain("unused_thing");
      expect(b.err).toContain("warning");
      const bareObj = readOrNull(obj);

      rm(obj);
      const miss = zcMeasured(args, dir);
      expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
      expectSameRun(miss.r, b, "miss with a warning");
      expectSameBytes(readOrNull(obj), bareObj, "object (miss)");

      rm(obj);
      const hit = zcMeasured(args, dir);
      expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expectSameRun(hit.r, b, "hit with a warning");
      expectSameBytes(readOrNull(obj), bareObj, "object (hit)");
    });

    test("-fdiagnostics-color=always: colour escapes replayed identically", () => {
      const csrc = `color.${c.ext}`;
      fs.writeFileSync(path.join(dir, csrc), "int coloured(void) {\n  int never_used;\n  return 9;\n}\n");
      const args = [c.cc, "-Wall", "-fdiagnostics-color=always", "-c", csrc, "-o", "color.o"];
      const obj = path.join(dir, "color.o");
      rm(obj);
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      expect(b.stderr.includes("\x1b[")).toBe(true);
      const bareObj = readOrNull(obj);

      rm(obj);
      const miss = zcMeasured(args, dir);
      expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
      expect(miss.r.stderr.includes("\x1b[")).toBe(true);
      expectSameRun(miss.r, b, "coloured miss");

      rm(obj);
      const hit = zcMeasured(args, dir);
      expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expect(hit.r.stderr.includes("\x1b[")).toBe(true);
      expectSameRun(hit.r, b, "coloured hit");
      expectSameBytes(readOrNull(obj), bareObj, "object (coloured hit)");

      // The same command without colour is a different result: no escapes replayed.
      const plainArgs = [c.cc, "-Wall", "-fno-diagnostics-color", "-c", csrc, "-o", "color.o"];
      const bp = bare(plainArgs, dir);
      expect(bp.stderr.includes("\x1b[")).toBe(false);
      zcMeasured(plainArgs, dir);
      const plainHit = zcMeasured(plainArgs, dir);
      expect(counters(plainHit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
      expectSameRun(plainHit.r, bp, "uncoloured hit");
    });

    test("a failing compile is never cached", () => {
      const fsrc = `broken.${c.ext}`;
      fs.writeFileSync(path.join(dir, fsrc), "int broken(void) {\n  return 1 +;\n}\n");
      const args = [c.cc, "-c", fsrc, "-o", "broken.o"];
      const obj = path.join(dir, "broken.o");
      rm(obj);
      const b = bare(args, dir);
      expect(b.code).not.toBe(0);
      expect(b.err).toContain("error");
      const entriesBefore = env.status().entries;
      const bytesBefore = env.status().bytes;
      for (let i = 0; i < 3; i++) {
        rm(obj);
        const { r, d } = zcMeasured(args, dir);
        expect(r.code).not.toBe(0);
        expectSameRun(r, b, `failing compile #${i + 1}`);
        expect(r.err).toContain("error");
        expect(counters(d)).toEqual({ hits: 0, misses: 0, uncacheable: 1, errors: 0, reasons: { "compile-failed": 1 } });
        expect(d.languages).toEqual({ [c.lang]: { uncacheable: 1 } });
        expect(d.entries).toBe(0);
        expect(fs.existsSync(obj)).toBe(false);
      }
      const after = env.status();
      expect(after.entries).toBe(entriesBefore);
      expect(after.bytes).toBe(bytesBefore);

      // Fixed: now it is cached like any other source.
      fs.writeFileSync(path.join(dir, fsrc), "int broken(void) {\n  return 1 + 1;\n}\n");
      const fixed = zcMeasured(args, dir);
      expect(fixed.r.code).toBe(0);
      expect(counters(fixed.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
      const again = zcMeasured(args, dir);
      expect(counters(again.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });

      // Broken again: the earlier good entry must not be served for the broken source.
      fs.writeFileSync(path.join(dir, fsrc), "int broken(void) {\n  return 1 +;\n}\n");
      rm(obj);
      const rebroken = zcMeasured(args, dir);
      expectSameRun(rebroken.r, b, "failing compile after a good one");
      expect(counters(rebroken.d)).toEqual({ hits: 0, misses: 0, uncacheable: 1, errors: 0, reasons: { "compile-failed": 1 } });
      expect(fs.existsSync(obj)).toBe(false);
    });

    test("-S assembly output misses then hits, identical to bare", () => {
      for (const args of [
        [c.cc, "-O1", "-S", src, "-o", "ok-asm.s"],
        [c.cc, "-S", src],
      ]) {
        const out = path.join(dir, args.includes("-o") ? "ok-asm.s" : "ok.s");
        rm(out);
        const b = bare(args, dir);
        expect(b.code).toBe(0);
        const bareAsm = readOrNull(out);
        expect(bareAsm?.toString()).toContain("answer");
        rm(out);
        const miss = zcMeasured(args, dir);
        expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
        expectSameBytes(readOrNull(out), bareAsm, `${args.join(" ")} (miss)`);
        rm(out);
        const hit = zcMeasured(args, dir);
        expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
        expectSameRun(hit.r, b, "-S hit");
        expectSameBytes(readOrNull(out), bareAsm, `${args.join(" ")} (hit)`);
      }
      // -S and -c of the same source are different results.
      const objArgs = [c.cc, "-O1", "-c", src, "-o", "ok-asm.s"];
      const asObj = zcMeasured(objArgs, dir);
      expect(asObj.d.hits).toBe(0);
      expect(fs.readFileSync(path.join(dir, "ok-asm.s")).subarray(0, 4).equals(Buffer.from("\x7fELF", "latin1"))).toBe(true);
    });
  });
}

test("gcc: compiler stdout (-fopt-info=stdout) is replayed on a hit", () => {
  const dir = subdir("stdout");
  fs.writeFileSync(path.join(dir, "vec.c"), "void add(float *a, const float *b, int n) {\n  for (int i = 0; i < n; i++) a[i] += b[i];\n}\n");
  const args = ["gcc", "-O3", "-fopt-info-vec-optimized=stdout", "-c", "vec.c", "-o", "vec.o"];
  const b = bare(args, dir);
  expect(b.code).toBe(0);
  expect(b.out).toContain("vectorized");
  const bareObj = readOrNull(path.join(dir, "vec.o"));
  rm(path.join(dir, "vec.o"));
  const miss = zcMeasured(args, dir);
  expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
  expectSameRun(miss.r, b, "miss with stdout");
  rm(path.join(dir, "vec.o"));
  const hit = zcMeasured(args, dir);
  expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
  expectSameRun(hit.r, b, "hit with stdout");
  expectSameBytes(readOrNull(path.join(dir, "vec.o")), bareObj, "object (hit with stdout)");
});

test("gcc, g++ and clang results for the same source are kept apart", () => {
  const dir = subdir("three");
  fs.writeFileSync(path.join(dir, "t.c"), "int t(void) { return 5; }\n");
  const objs: Record<string, Buffer | null> = {};
  for (const cc of ["gcc", "clang"]) {
    const args = [cc, "-c", "t.c", "-o", "t.o"];
    bare(args, dir);
    objs[cc] = readOrNull(path.join(dir, "t.o"));
    rm(path.join(dir, "t.o"));
    const miss = zcMeasured(args, dir);
    expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } });
  }
  for (const cc of ["gcc", "clang"]) {
    rm(path.join(dir, "t.o"));
    const hit = zcMeasured([cc, "-c", "t.c", "-o", "t.o"], dir);
    expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} });
    expectSameBytes(readOrNull(path.join(dir, "t.o")), objs[cc] ?? null, `${cc} object`);
  }
});
