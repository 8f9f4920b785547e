// User depfiles (-MD, -MMD, -MF, -MT, -MQ, -MP) and side outputs (.dwo, .gcno, .su) are
// cached with the object and restored byte-identical to what a bare compile writes.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult } from "../helpers.ts";
import { diff, expectSameBytes, expectSameRun, outcomeOf, put, readOrNull, rmAll } from "../assertions.ts";

const env = new CacheEnv();
// Stop this file's daemon when the file ends (the harness cannot register this hook itself).
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----




function zcOutcome(args: readonly string[], cwd: string): { r: RunResult; outcome: string } {
  const before = env.status();
  const r = env.zc(args, { cwd });
  return { r, outcome: outcomeOf(diff(before, env.status())) };
}





function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}


/** Lines of `-H` output (". /usr/include/stdio.h", ".. /…") or its include-guard list. */
function traceLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^\.+ /.test(l) || l.startsWith("Multiple include guards"));
}

/**
 * Bare compile first (saving every output's bytes), then zccache twice with the outputs deleted
 * before each run: a miss then a hit, each restoring byte-identical outputs and stdio.
 */
function bareThenMissThenHit(dir: string, args: readonly string[], outputs: readonly string[]): { bareRun: RunResult } {
  rmAll(dir, outputs);
  const b = bare(args, dir);
  expect({ args, bareExit: b.code }).toEqual({ args, bareExit: 0 });
  const ref = outputs.map((o) => readOrNull(path.join(dir, o)));
  for (const [phase, want] of [
    ["miss", "miss:new-source"],
    ["hit", "hit"],
  ] as const) {
    rmAll(dir, outputs);
    const { r, outcome } = zcOutcome(args, dir);
    const what = `${args.join(" ")} (${phase})`;
    expect({ what, outcome }).toEqual({ what, outcome: want });
    expectSameRun(r, b, what);
    outputs.forEach((o, i) => {
      expectSameBytes(readOrNull(path.join(dir, o)), ref[i] ?? null, `${what}: ${o}`);
    });
  }
  return { bareRun: b };
}

const SRC = '#include <stdio.h>\n#include "h.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n';

// ---- depfiles ----

const DEP_CASES: { name: string; args: string[]; outputs: string[] }[] = [
  { name: "-MD", args: ["-c", "a.c", "-o", "o1.o", "-MD"], outputs: ["o1.o", "o1.d"] },
  { name: "-MMD", args: ["-c", "a.c", "-o", "o2.o", "-MMD"], outputs: ["o2.o", "o2.d"] },
  { name: "-MD -MF x.d", args: ["-c", "a.c", "-o", "o3.o", "-MD", "-MF", "x3.d"], outputs: ["o3.o", "x3.d"] },
  {
    name: "-MMD -MF x.d -MT custom -MP",
    args: ["-c", "a.c", "-o", "o4.o", "-MMD", "-MF", "x4.d", "-MT", "custom", "-MP"],
    outputs: ["o4.o", "x4.d"],
  },
  { name: "-MD -MQ '$weird'", args: ["-c", "a.c", "-o", "o5.o", "-MD", "-MQ", "$weird"], outputs: ["o5.o", "o5.d"] },
  { name: "-MD without -o", args: ["-c", "a.c", "-MD"], outputs: ["a.o", "a.d"] },
  {
    name: "-MMD with joined -MF, two -MT",
    args: ["-c", "a.c", "-o", "o7.o", "-MMD", "-MFx7.d", "-MTt1", "-MT", "t2"],
    outputs: ["o7.o", "x7.d"],
  },
  { name: "-MD -MF in a subdirectory", args: ["-c", "a.c", "-o", "out/o8.o", "-MD", "-MF", "deps/x8.d"], outputs: ["out/o8.o", "deps/x8.d"] },
  { name: "-MD with -o in a subdirectory", args: ["-c", "a.c", "-o", "out/o9.o", "-MD"], outputs: ["out/o9.o", "out/o9.d"] },
];

for (const cc of ["gcc", "clang"]) {
  describe(`${cc} depfiles`, () => {
    const dir = scenario(`deps-${cc}`);
    put(dir, "a.c", SRC);
    put(dir, "h.h", "#ifndef H_H\n#define H_H\n#define VALUE 5\n#endif\n");
    fs.mkdirSync(path.join(dir, "deps"), { recursive: true });
    fs.mkdirSync(path.join(dir, "out"), { recursive: true });
    DEP_CASES.forEach((c, i) => {
      test(`${c.name}: depfile after a miss and after a hit equals bare`, () => {
        // Output names are not in the key: a define of its own keeps each case's first
        // compile a miss (sharing across names is tested in relocation.test.ts).
        bareThenMissThenHit(dir, [cc, `-DDEP_CASE=${i}`, ...c.args], c.outputs);
      });
    });

    test("-MMD: no -H trace in stderr on a miss or a hit, warnings intact", () => {
      const d = scenario(`mmd-trace-${cc}`);
      // A header without an include guard makes -H also print "Multiple include guards…".
      put(d, "w.c", '#include <stdio.h>\n#include "noguard.h"\nint f(void) { int unused_var; return NG; }\n');
      put(d, "noguard.h", "#define NG 4\n");
      const args = [cc, "-Wall", "-c", "w.c", "-o", "w.o", "-MMD"];
      // Only stdio and the object here; the depfile itself is covered by the cases above.
      const { bareRun } = bareThenMissThenHit(d, args, ["w.o"]);
      expect(bareRun.err).toContain("unused_var");
      // And once more, checked explicitly.
      rmAll(d, ["w.o", "w.d"]);
      const { r, outcome } = zcOutcome(args, d);
      expect(outcome).toBe("hit");
      expect(traceLines(r.err)).toEqual([]);
      expect(r.err).toContain("unused_var");
    });

    test("-MMD: a failing compile shows the bare error without any -H trace", () => {
      const d = scenario(`mmd-fail-${cc}`);
      put(d, "bad.c", '#include <stdio.h>\n#include "g.h"\nint f(void) { return G +; }\n');
      put(d, "g.h", "#define G 1\n");
      const args = [cc, "-c", "bad.c", "-o", "bad.o", "-MMD"];
      rmAll(d, ["bad.o", "bad.d"]);
      const b = bare(args, d);
      expect(b.code).not.toBe(0);
      for (let i = 0; i < 2; i++) {
        const { r, outcome } = zcOutcome(args, d);
        expect(outcome).toBe("uncacheable:compile-failed");
        expect(traceLines(r.err)).toEqual([]);
        expectSameRun(r, b, "failing -MMD compile");
      }
    });

    test("-MMD: a changed header in an -isystem directory is noticed (miss), depfile still bare-identical", () => {
      const d = scenario(`mmd-system-${cc}`);
      put(d, "s.c", '#include <stdio.h>\n#include <sys_cfg.h>\nint main(void) { printf("%d\\n", SVAL); return 0; }\n');
      put(d, "sys/sys_cfg.h", "#define SVAL 1\n");
      const args = [cc, "-isystem", "sys", "-c", "s.c", "-o", "s.o", "-MMD"];
      rmAll(d, ["s.o", "s.d"]);
      const b0 = bare(args, d);
      const refDep0 = readOrNull(path.join(d, "s.d"));
      // -MMD leaves sys_cfg.h out of the user's depfile, but it is read all the same.
      expect(refDep0?.toString()).not.toContain("sys_cfg.h");
      // Object and stdio first (the depfile bytes are compared at the end).
      bareThenMissThenHit(d, args, ["s.o"]);
      expect(b0.code).toBe(0);
      put(d, "sys/sys_cfg.h", "#define SVAL 222\n");
      rmAll(d, ["s.o", "s.d"]);
      const b = bare(args, d);
      const refObj = readOrNull(path.join(d, "s.o"));
      const refDep = readOrNull(path.join(d, "s.d"));
      rmAll(d, ["s.o", "s.d"]);
      const { r, outcome } = zcOutcome(args, d);
      expect(outcome).toBe("miss:inputs-changed");
      expectSameRun(r, b, "after the system header changed");
      expectSameBytes(readOrNull(path.join(d, "s.o")), refObj, "object after the system header changed");
      rmAll(d, ["s.o", "s.d"]);
      expect(zcOutcome(args, d).outcome).toBe("hit");
      expectSameBytes(readOrNull(path.join(d, "s.o")), refObj, "object after the system header changed (hit)");
      expectSameBytes(readOrNull(path.join(d, "s.d")), refDep, "depfile after the system header changed (hit)");
      expect(refDep?.equals(refDep0 ?? Buffer.alloc(0))).toBe(true);
    });
  });
}

test("-MD: a changed header misses and the depfile follows a new include", () => {
  const d = scenario("md-new-include");
  put(d, "a.c", '#include "h.h"\nint f(void) { return VALUE; }\n');
  put(d, "h.h", "#define VALUE 1\n");
  put(d, "extra.h", "#define EXTRA 2\n");
  const args = ["gcc", "-c", "a.c", "-o", "a.o", "-MD"];
  bareThenMissThenHit(d, args, ["a.o", "a.d"]);
  put(d, "h.h", '#include "extra.h"\n#define VALUE EXTRA\n');
  rmAll(d, ["a.o", "a.d"]);
  bare(args, d);
  const refDep = readOrNull(path.join(d, "a.d"));
  expect(refDep?.toString()).toContain("extra.h");
  rmAll(d, ["a.o", "a.d"]);
  const { outcome } = zcOutcome(args, d);
  expect(outcome).toBe("miss:inputs-changed");
  expectSameBytes(readOrNull(path.join(d, "a.d")), refDep, "depfile with the new include (miss)");
  rmAll(d, ["a.o", "a.d"]);
  expect(zcOutcome(args, d).outcome).toBe("hit");
  expectSameBytes(readOrNull(path.join(d, "a.d")), refDep, "depfile with the new include (hit)");
});

// ---- side outputs ----

describe("side outputs (gcc)", () => {
  test("-gsplit-dwarf: .dwo cached and restored identical to bare", () => {
    const d = scenario("dwo");
    put(d, "s.c", SRC);
    put(d, "h.h", "#define VALUE 6\n");
    fs.mkdirSync(path.join(d, "out"), { recursive: true });
    bareThenMissThenHit(d, ["gcc", "-g", "-gsplit-dwarf", "-c", "s.c", "-o", "s.o"], ["s.o", "s.dwo"]);
    bareThenMissThenHit(d, ["gcc", "-gsplit-dwarf", "-O1", "-c", "s.c"], ["s.o", "s.dwo"]);
    bareThenMissThenHit(d, ["gcc", "-g", "-gsplit-dwarf", "-c", "s.c", "-o", "out/t.o"], ["out/t.o", "out/t.dwo"]);
  });

  test("-fstack-usage: .su cached and restored identical to bare", () => {
    const d = scenario("su");
    put(d, "s.c", SRC);
    put(d, "h.h", "#define VALUE 7\n");
    bareThenMissThenHit(d, ["gcc", "-fstack-usage", "-c", "s.c", "-o", "s.o"], ["s.o", "s.su"]);
  });

  for (const flag of ["--coverage", "-ftest-coverage"]) {
    test(`${flag}: .gcno cached and restored identical to what the miss wrote`, () => {
      // gcc stamps .gcno (and the object) per compile, so the reference is the miss itself.
      const d = scenario(`gcno${flag}`);
      put(d, "c.c", SRC);
      put(d, "h.h", "#define VALUE 8\n");
      const args = ["gcc", flag, "-c", "c.c", "-o", "c.o"];
      const outs = ["c.o", "c.gcno"];
      rmAll(d, outs);
      const b = bare(args, d);
      expect(b.code).toBe(0);
      expect(fs.existsSync(path.join(d, "c.gcno"))).toBe(true);
      rmAll(d, outs);
      const miss = zcOutcome(args, d);
      expect(miss.outcome).toBe("miss:new-source");
      expectSameRun(miss.r, b, `${flag} miss`);
      const ref = outs.map((o) => readOrNull(path.join(d, o)));
      expect(ref[1]?.subarray(0, 4).toString("latin1")).toBe("oncg");
      for (let i = 0; i < 2; i++) {
        rmAll(d, outs);
        const hit = zcOutcome(args, d);
        expect(hit.outcome).toBe("hit");
        expectSameRun(hit.r, b, `${flag} hit`);
        outs.forEach((o, k) => {
      expectSameBytes(readOrNull(path.join(d, o)), ref[k] ?? null, `${flag} hit: ${o}`);
    });
      }
      // Only the .gcno deleted: a hit brings it back.
      rmAll(d, ["c.gcno"]);
      expect(zcOutcome(args, d).outcome).toBe("hit");
      expectSameBytes(readOrNull(path.join(d, "c.gcno")), ref[1] ?? null, `${flag}: .gcno restored alone`);
    });
  }
});
