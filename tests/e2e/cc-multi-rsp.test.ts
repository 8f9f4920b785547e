// Response files (@file, quoted, nested) and several sources in one invocation, each source
// looked up and counted on its own.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, run } from "../helpers.ts";
import { type Delta, diff, expectSameBytes, expectSameRun, put, readOrNull, rmAll } from "../assertions.ts";

const env = new CacheEnv();
// Stop this file's daemon when the file ends (the harness cannot register this hook itself).
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----



function zcMeasured(args: readonly string[], cwd: string): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd });
  return { r, d: diff(before, env.status()) };
}

function counters(d: Delta): { hits: number; misses: number; uncacheable: number; errors: number } {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors };
}

/** Misses whose reason is new-source or inputs-changed. */
function plainMisses(d: Delta): number {
  return (d.reasons["new-source"] ?? 0) + (d.reasons["inputs-changed"] ?? 0);
}





function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}


/** Bare outputs of a command (outputs deleted first, then deleted again afterwards). */
function bareOutputs(dir: string, args: readonly string[], outputs: readonly string[]): { b: RunResult; files: (Buffer | null)[] } {
  rmAll(dir, outputs);
  const b = bare(args, dir);
  const files = outputs.map((o) => readOrNull(path.join(dir, o)));
  rmAll(dir, outputs);
  return { b, files };
}

function linkAndRun(dir: string, objs: readonly string[]): string {
  const prog = path.join(dir, "prog");
  fs.rmSync(prog, { force: true });
  const l = run(["gcc", ...objs, "-o", prog], { cwd: dir });
  if (l.code !== 0) throw new Error(`link failed: ${l.err}`);
  const r = run([prog], { cwd: dir });
  expect(r.code).toBe(0);
  return r.out;
}

// ---- response files ----

describe("response files", () => {
  const M_C = '#include <stdio.h>\nint main(void) { printf("%d %s %s\\n", X, GREETING, TAG); return 0; }\n';

  test("@args.rsp with quotes and a nested @inner.rsp: miss, hit, then a changed -D misses", () => {
    const dir = scenario("rsp");
    put(dir, "m.c", M_C);
    put(dir, "args.rsp", `-c "m.c" -o 'm.o' -DX=3\n@inner.rsp\n`);
    put(dir, "inner.rsp", `-DGREETING="\\"hi there\\"" '-DTAG="t a g"'\n`);
    const args = ["gcc", "@args.rsp"];
    const { b, files } = bareOutputs(dir, args, ["m.o"]);
    expect(b.code).toBe(0);

    const miss = zcMeasured(args, dir);
    expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expect(plainMisses(miss.d)).toBe(1);
    expectSameRun(miss.r, b, "rsp miss");
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o (miss)");
    expect(linkAndRun(dir, ["m.o"])).toBe("3 hi there t a g\n");

    rmAll(dir, ["m.o"]);
    const hit = zcMeasured(args, dir);
    expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expectSameRun(hit.r, b, "rsp hit");
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o (hit)");

    // Same size, only the -D value differs.
    put(dir, "args.rsp", `-c "m.c" -o 'm.o' -DX=4\n@inner.rsp\n`);
    const changed = bareOutputs(dir, args, ["m.o"]);
    const miss2 = zcMeasured(args, dir);
    expect(counters(miss2.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expect(plainMisses(miss2.d)).toBe(1);
    expectSameBytes(readOrNull(path.join(dir, "m.o")), changed.files[0] ?? null, "m.o after the rsp changed");
    expect(linkAndRun(dir, ["m.o"])).toBe("4 hi there t a g\n");

    // Only the nested file changes.
    put(dir, "inner.rsp", `-DGREETING="\\"ho there\\"" '-DTAG="t a g"'\n`);
    const changedInner = bareOutputs(dir, args, ["m.o"]);
    const miss3 = zcMeasured(args, dir);
    expect(counters(miss3.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expectSameBytes(readOrNull(path.join(dir, "m.o")), changedInner.files[0] ?? null, "m.o after inner.rsp changed");
    expect(linkAndRun(dir, ["m.o"])).toBe("4 ho there t a g\n");

    // Back to X=3 and "hi": the first entry is still there.
    put(dir, "args.rsp", `-c "m.c" -o 'm.o' -DX=3\n@inner.rsp\n`);
    put(dir, "inner.rsp", `-DGREETING="\\"hi there\\"" '-DTAG="t a g"'\n`);
    rmAll(dir, ["m.o"]);
    const hit2 = zcMeasured(args, dir);
    expect(counters(hit2.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o back to the first rsp");
  });

  test("@file mixed with plain arguments, and the same arguments without a response file", () => {
    const dir = scenario("rsp-mixed");
    put(dir, "m.c", M_C);
    put(dir, "defs.rsp", '-DX=7 -DGREETING=\\"x\\" -DTAG=\\"y\\"');
    const viaRsp = ["gcc", "-O1", "@defs.rsp", "-c", "m.c", "-o", "m.o"];
    const { b, files } = bareOutputs(dir, viaRsp, ["m.o"]);
    expect(b.code).toBe(0);
    const miss = zcMeasured(viaRsp, dir);
    expect(counters(miss.d)).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o via @defs.rsp");
    expect(linkAndRun(dir, ["m.o"])).toBe("7 x y\n");
    rmAll(dir, ["m.o"]);
    const hit = zcMeasured(viaRsp, dir);
    expect(counters(hit.d)).toEqual({ hits: 1, misses: 0, uncacheable: 0, errors: 0 });
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o via @defs.rsp (hit)");

    // The expanded command line is the same compile: same object either way.
    const plain = ["gcc", "-O1", "-DX=7", '-DGREETING="x"', '-DTAG="y"', "-c", "m.c", "-o", "m.o"];
    rmAll(dir, ["m.o"]);
    const direct = zcMeasured(plain, dir);
    expect(direct.r.code).toBe(0);
    expect(direct.d.hits + direct.d.misses).toBe(1);
    expectSameBytes(readOrNull(path.join(dir, "m.o")), files[0] ?? null, "m.o without the response file");
  });

  test("an @file that does not exist is passed to the compiler as is", () => {
    const dir = scenario("rsp-missing");
    put(dir, "m.c", "int m(void) { return 1; }\n");
    const args = ["gcc", "-c", "m.c", "@nope.rsp"];
    const { b } = bareOutputs(dir, args, ["m.o"]);
    const before = env.status();
    const r = env.zc(args, { cwd: dir });
    const d = diff(before, env.status());
    expectSameRun(r, b, "missing @file");
    expect(d.hits).toBe(0);
  });
});

// ---- several sources in one invocation ----

describe("several sources: -c a.c b.c c.c", () => {
  const SOURCES: Record<string, string> = {
    "a.c": "int fa(void) { return 1; }\n",
    "b.c": "int fb(void) { return 20; }\n",
    "c.c": "int fc(void) { return 300; }\n",
  };
  const MAIN = '#include <stdio.h>\nint fa(void); int fb(void); int fc(void);\nint main(void) { printf("%d\\n", fa() + fb() + fc()); return 0; }\n';
  const OBJS = ["a.o", "b.o", "c.o"];

  test("3 misses, then 3 hits, then editing b.c gives 2 hits and 1 miss", () => {
    const dir = scenario("multi");
    for (const [n, s] of Object.entries(SOURCES)) put(dir, n, s);
    put(dir, "main.c", MAIN);
    expect(bare(["gcc", "-c", "main.c", "-o", "main.o"], dir).code).toBe(0);
    const args = ["gcc", "-O2", "-c", "a.c", "b.c", "c.c"];
    const ref = bareOutputs(dir, args, OBJS);
    expect(ref.b.code).toBe(0);

    const first = zcMeasured(args, dir);
    expect(first.r.code).toBe(0);
    expect(counters(first.d)).toEqual({ hits: 0, misses: 3, uncacheable: 0, errors: 0 });
    expect(first.d.reasons).toEqual({ "new-source": 3 });
    expect(first.d.languages).toEqual({ c: { misses: 3 } });
    expect(first.d.entries).toBe(3);
    expectSameRun(first.r, ref.b, "multi miss");
    OBJS.forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref.files[i] ?? null, `${o} (miss)`);
    });
    expect(linkAndRun(dir, ["main.o", ...OBJS])).toBe("321\n");

    rmAll(dir, OBJS);
    const second = zcMeasured(args, dir);
    expect(counters(second.d)).toEqual({ hits: 3, misses: 0, uncacheable: 0, errors: 0 });
    expect(second.d.languages).toEqual({ c: { hits: 3 } });
    expect(second.d.entries).toBe(0);
    expect(second.d.bytes).toBe(0);
    expectSameRun(second.r, ref.b, "multi hit");
    OBJS.forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref.files[i] ?? null, `${o} (hit)`);
    });

    put(dir, "b.c", "int fb(void) { return 40; }\n");
    const ref2 = bareOutputs(dir, args, OBJS);
    const third = zcMeasured(args, dir);
    expect(counters(third.d)).toEqual({ hits: 2, misses: 1, uncacheable: 0, errors: 0 });
    expect(plainMisses(third.d)).toBe(1);
    expect(third.d.entries).toBe(1);
    OBJS.forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref2.files[i] ?? null, `${o} (after editing b.c)`);
    });
    expect(ref2.files[0]?.equals(ref.files[0] ?? Buffer.alloc(0))).toBe(true);
    expect(ref2.files[1]?.equals(ref.files[1] ?? Buffer.alloc(0))).toBe(false);
    expect(linkAndRun(dir, ["main.o", ...OBJS])).toBe("341\n");

    // Each source is its own entry: compiling one alone hits.
    rmAll(dir, OBJS);
    const alone = zcMeasured(["gcc", "-O2", "-c", "c.c"], dir);
    expect(alone.d.hits + alone.d.misses).toBe(1);
    expectSameBytes(readOrNull(path.join(dir, "c.o")), ref.files[2] ?? null, "c.o compiled alone");
  });

  test("warnings from several sources are replayed in order, on a miss and on a hit", () => {
    const dir = scenario("multi-warn");
    put(dir, "a.c", "int wa(void) { int unused_in_a; return 1; }\n");
    put(dir, "b.c", "int wb(void) { return 2; }\n");
    put(dir, "c.c", "int wc(void) { int unused_in_c; return 3; }\n");
    const args = ["gcc", "-Wall", "-c", "a.c", "b.c", "c.c"];
    const ref = bareOutputs(dir, args, OBJS);
    expect(ref.b.err.indexOf("unused_in_a")).toBeLessThan(ref.b.err.indexOf("unused_in_c"));
    const miss = zcMeasured(args, dir);
    expect(counters(miss.d)).toEqual({ hits: 0, misses: 3, uncacheable: 0, errors: 0 });
    expectSameRun(miss.r, ref.b, "multi miss with warnings");
    rmAll(dir, OBJS);
    const hit = zcMeasured(args, dir);
    expect(counters(hit.d)).toEqual({ hits: 3, misses: 0, uncacheable: 0, errors: 0 });
    expectSameRun(hit.r, ref.b, "multi hit with warnings");
    OBJS.forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref.files[i] ?? null, `${o} (hit with warnings)`);
    });
  });

  test("one failing source among three: the others are compiled and cached, exit code and error as bare", () => {
    const dir = scenario("multi-fail");
    put(dir, "a.c", "int ga(void) { return 1; }\n");
    put(dir, "b.c", "int gb(void) { return 2 +; }\n");
    put(dir, "c.c", "int gc(void) { return 3; }\n");
    const args = ["gcc", "-c", "a.c", "b.c", "c.c"];
    const ref = bareOutputs(dir, args, OBJS);
    expect(ref.b.code).not.toBe(0);
    const first = zcMeasured(args, dir);
    expect(counters(first.d)).toEqual({ hits: 0, misses: 2, uncacheable: 1, errors: 0 });
    expect(first.d.reasons).toEqual({ "new-source": 2, "compile-failed": 1 });
    expect(first.d.entries).toBe(2);
    expectSameRun(first.r, ref.b, "multi with a failure (miss)");
    OBJS.forEach((o, i) => {
      const want = ref.files[i] ?? null;
      if (want === null) expect(readOrNull(path.join(dir, o))).toBeNull();
      else expectSameBytes(readOrNull(path.join(dir, o)), want, `${o} (multi with a failure)`);
    });
    rmAll(dir, OBJS);
    const second = zcMeasured(args, dir);
    expect(counters(second.d)).toEqual({ hits: 2, misses: 0, uncacheable: 1, errors: 0 });
    expect(second.d.reasons).toEqual({ "compile-failed": 1 });
    expectSameRun(second.r, ref.b, "multi with a failure (hits)");
    expect(readOrNull(path.join(dir, "b.o"))).toBeNull();
  });

  test("C and C++ sources in one invocation are counted per language", () => {
    const dir = scenario("multi-lang");
    put(dir, "a.c", "int la(void) { return 1; }\n");
    put(dir, "d.cpp", 'extern "C" int ld(void) { return 2; }\n');
    const args = ["gcc", "-c", "a.c", "d.cpp"];
    const ref = bareOutputs(dir, args, ["a.o", "d.o"]);
    expect(ref.b.code).toBe(0);
    const first = zcMeasured(args, dir);
    expect(counters(first.d)).toEqual({ hits: 0, misses: 2, uncacheable: 0, errors: 0 });
    expect(first.d.languages).toEqual({ c: { misses: 1 }, "c++": { misses: 1 } });
    rmAll(dir, ["a.o", "d.o"]);
    const second = zcMeasured(args, dir);
    expect(counters(second.d)).toEqual({ hits: 2, misses: 0, uncacheable: 0, errors: 0 });
    expect(second.d.languages).toEqual({ c: { hits: 1 }, "c++": { hits: 1 } });
    ["a.o", "d.o"].forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref.files[i] ?? null, `${o} (mixed languages)`);
    });
  });

  test("two sources with the same basename (x/a.c y/a.c): a.o ends up as bare leaves it", () => {
    // gcc compiles the sources in order, so the last one's a.o is what remains. x/a.c is made
    // the slower compile so that finishing order and command-line order disagree.
    const dir = scenario("multi-same-name");
    put(
      dir,
      "x/a.c",
      "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <math.h>\n#include <time.h>\n" +
        "static int sq(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i % 7; return s; }\n" +
        "int which(void) { return 1 + 0 * sq(3); }\n",
    );
    put(dir, "y/a.c", "int which(void) { return 2; }\n");
    put(dir, "main.c", '#include <stdio.h>\nint which(void);\nint main(void) { printf("%d\\n", which()); return 0; }\n');
    expect(bare(["gcc", "-c", "main.c", "-o", "main.o"], dir).code).toBe(0);
    const args = ["gcc", "-O2", "-c", "x/a.c", "y/a.c"];
    const ref = bareOutputs(dir, args, ["a.o"]);
    expect(ref.b.code).toBe(0);
    for (const phase of ["miss", "hit"]) {
      rmAll(dir, ["a.o"]);
      const r = zcMeasured(args, dir);
      expect(r.r.code).toBe(0);
      // Counting is not specified here (caching it or calling it too hard are both fine).
      expect(r.d.errors).toBe(0);
      expect({ phase, printed: linkAndRun(dir, ["main.o", "a.o"]) }).toEqual({ phase, printed: "2\n" });
      expectSameBytes(readOrNull(path.join(dir, "a.o")), ref.files[0] ?? null, `a.o (${phase})`);
    }
    // Each source's own entry holds its own object.
    for (const [src, want] of [
      ["x/a.c", "1\n"],
      ["y/a.c", "2\n"],
    ] as const) {
      rmAll(dir, ["a.o"]);
      const single = bareOutputs(dir, ["gcc", "-O2", "-c", src], ["a.o"]);
      const r = zcMeasured(["gcc", "-O2", "-c", src], dir);
      expect(r.r.code).toBe(0);
      expectSameBytes(readOrNull(path.join(dir, "a.o")), single.files[0] ?? null, `a.o from ${src} alone`);
      expect(linkAndRun(dir, ["main.o", "a.o"])).toBe(want);
    }
  });

  test("several sources with -o: the compiler's own error, not cached", () => {
    const dir = scenario("multi-o");
    put(dir, "a.c", "int oa(void) { return 1; }\n");
    put(dir, "b.c", "int ob(void) { return 2; }\n");
    const args = ["gcc", "-c", "a.c", "b.c", "-o", "x.o"];
    const ref = bareOutputs(dir, args, ["x.o", "a.o", "b.o"]);
    expect(ref.b.code).not.toBe(0);
    const r = zcMeasured(args, dir);
    expectSameRun(r.r, ref.b, "several sources with -o");
    expect(counters(r.d)).toEqual({ hits: 0, misses: 0, uncacheable: 1, errors: 0 });
    expect(r.d.entries).toBe(0);
  });
});
