// Invocations the cache must not store: each is counted under its reason, and the real
// compiler still runs with the user's stdio, producing what a bare run produces.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, run } from "../helpers.ts";
import { type Delta, diff, expectSameBytes, expectSameRun, put, readOrNull, rm } from "../assertions.ts";

const env = new CacheEnv();
// Stop this file's daemon when the file ends (the harness cannot register this hook itself).
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----



function zcMeasured(args: readonly string[], cwd: string, opts: { stdin?: string; env?: Record<string, string | undefined> } = {}) {
  const before = env.status();
  const r = env.zc(args, { cwd, stdin: opts.stdin, env: opts.env });
  const d = diff(before, env.status());
  return { r, d };
}

/** Exactly one uncacheable outcome with this reason, nothing stored. */
function expectUncacheable(d: Delta, reason: string): void {
  expect({ hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors, reasons: d.reasons }).toEqual({
    hits: 0,
    misses: 0,
    uncacheable: 1,
    errors: 0,
    reasons: { [reason]: 1 },
  });
  expect({ entries: d.entries, bytes: d.bytes }).toEqual({ entries: 0, bytes: 0 });
}





function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}


const HELLO = '#include <stdio.h>\n#include "h.h"\nint main(void) { printf("hello %d\\n", VALUE); return 0; }\n';

/**
 * Runs zccache and then the bare command (same cwd, args, stdin), comparing exit code,
 * stdout, stderr and each named output file. Returns the status delta of the zccache run.
 */
function compareWithBare(
  dir: string,
  args: readonly string[],
  outputs: readonly string[],
  stdin?: string,
): { d: Delta; z: RunResult; b: RunResult; files: (Buffer | null)[] } {
  for (const o of outputs) rm(path.join(dir, o));
  const { r: z, d } = zcMeasured(args, dir, { stdin });
  const files = outputs.map((o) => readOrNull(path.join(dir, o)));
  for (const o of outputs) rm(path.join(dir, o));
  const b = run(args, { cwd: dir, stdin });
  const what = args.join(" ");
  expectSameRun(z, b, what);
  outputs.forEach((o, i) => {
    const bf = readOrNull(path.join(dir, o));
    if (bf === null) expect({ what, o, zccache: files[i] === null }).toEqual({ what, o, zccache: true });
    else expectSameBytes(files[i] ?? null, bf, `${what}: ${o}`);
  });
  return { d, z, b, files };
}

// ---- suites ----

describe("preprocessing", () => {
  test("-E writes the same preprocessed text to stdout as a bare run", () => {
    const dir = scenario("pp");
    put(dir, "a.c", HELLO);
    put(dir, "h.h", "#define VALUE 1\n");
    for (let i = 0; i < 2; i++) {
      const { d, z } = compareWithBare(dir, ["gcc", "-E", "a.c"], []);
      expectUncacheable(d, "preprocess-only");
      expect(z.code).toBe(0);
      expect(z.out).toContain("printf(\"hello %d\\n\", 1)");
    }
  });

  test("-E -o file and -M are preprocess-only too", () => {
    const dir = scenario("pp2");
    put(dir, "a.c", HELLO);
    put(dir, "h.h", "#define VALUE 2\n");
    const e = compareWithBare(dir, ["clang", "-E", "a.c", "-o", "a.i"], ["a.i"]);
    expectUncacheable(e.d, "preprocess-only");
    expect(e.files[0]?.toString()).toContain("hello");
    const m = compareWithBare(dir, ["gcc", "-M", "a.c"], []);
    expectUncacheable(m.d, "preprocess-only");
    expect(m.z.out).toContain("h.h");
  });
});

test("source from stdin (-x c -) compiles and is not cached", () => {
  const dir = scenario("stdin");
  const code = "int from_stdin(void) { return 77; }\n";
  for (let i = 0; i < 2; i++) {
    const { d, z, files } = compareWithBare(dir, ["gcc", "-x", "c", "-c", "-", "-o", "s.o"], ["s.o"], code);
    expectUncacheable(d, "stdin-input");
    expect(z.code).toBe(0);
    expect(files[0]?.includes("from_stdin")).toBe(true);
  }
});

test("-save-temps keeps its intermediate files and is not cached", () => {
  const dir = scenario("save-temps");
  put(dir, "t.c", HELLO);
  put(dir, "h.h", "#define VALUE 3\n");
  for (const flag of ["-save-temps", "-save-temps=obj"]) {
    const { d, z, files } = compareWithBare(dir, ["gcc", flag, "-c", "t.c", "-o", "t.o"], ["t.o", "t.i", "t.s"]);
    expectUncacheable(d, "save-temps");
    expect(z.code).toBe(0);
    expect(files.every((f) => f !== null)).toBe(true);
  }
});

describe("__DATE__, __TIME__ and __TIMESTAMP__", () => {
  const uses: [string, string, string][] = [
    ["__DATE__ in the source", 'const char *built = __DATE__;\n', ""],
    ["__TIME__ in the source", 'const char *at = "t=" __TIME__;\n', ""],
    ["__TIMESTAMP__ in the source", "const char *stamp = __TIMESTAMP__;\n", ""],
    ["__TIME__ in a header", '#include "tm.h"\nconst char *at = WHEN;\n', "#define WHEN __TIME__\n"],
    ["__DATE__ after a string with // in it", 'const char *u = "http://x/*"; const char *d = __DATE__;\n', ""],
  ];
  uses.forEach(([name, src, header], i) => {
    test(`${name}: not cached (time-macro), compiles like bare`, () => {
      const dir = scenario(`time-${i}`);
      put(dir, "t.c", src);
      if (header) put(dir, "tm.h", header);
      const args = ["gcc", "-c", "t.c", "-o", "t.o"];
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      for (let k = 0; k < 2; k++) {
        rm(path.join(dir, "t.o"));
        const { r, d } = zcMeasured(args, dir);
        expectSameRun(r, b, `${name} #${k + 1}`);
        expectUncacheable(d, "time-macro");
        expect(fs.existsSync(path.join(dir, "t.o"))).toBe(true);
      }
    });
  });

  const mentions: [string, string, string][] = [
    ["in a line comment", "// built on __DATE__ at __TIME__\nint f(void) { return 1; }\n", ""],
    ["in a block comment", "/* __TIMESTAMP__\n   __DATE__ */\nint f(void) { return 2; }\n", ""],
    ["in a string literal", 'const char *s = "__DATE__ __TIME__ __TIMESTAMP__";\n', ""],
    ["in a char literal and a string", "int c = '_'; const char *s = \"x __TIME__\";\n", ""],
    ["in a header comment", '#include "tm.h"\nint f(void) { return N; }\n', "/* uses no __DATE__ */\n#define N 3\n"],
    ["as part of a longer identifier", "int my__DATE__x = 1; int __TIME__2 = 2;\n", ""],
  ];
  mentions.forEach(([name, src, header], i) => {
    test(`mentioned only ${name}: cached (miss, then hit)`, () => {
      const dir = scenario(`no-time-${i}`);
      put(dir, "t.c", src);
      if (header) put(dir, "tm.h", header);
      const args = ["gcc", "-c", "t.c", "-o", "t.o"];
      const b = bare(args, dir);
      expect(b.code).toBe(0);
      const bareObj = readOrNull(path.join(dir, "t.o"));
      rm(path.join(dir, "t.o"));
      const first = zcMeasured(args, dir);
      expect(first.r.code).toBe(0);
      expect({ misses: first.d.misses, uncacheable: first.d.uncacheable, reasons: first.d.reasons }).toEqual({
        misses: 1,
        uncacheable: 0,
        reasons: { "new-source": 1 },
      });
      rm(path.join(dir, "t.o"));
      const second = zcMeasured(args, dir);
      expect({ hits: second.d.hits, misses: second.d.misses, uncacheable: second.d.uncacheable }).toEqual({
        hits: 1,
        misses: 0,
        uncacheable: 0,
      });
      expectSameBytes(readOrNull(path.join(dir, "t.o")), bareObj, `${name}: object on a hit`);
    });
  });
});

test("a missing input file: same error and exit code as bare", () => {
  const dir = scenario("missing");
  put(dir, "ok.c", "int ok(void) { return 1; }\n");
  for (const args of [
    ["gcc", "-c", "nope.c", "-o", "nope.o"],
    ["clang", "-c", "nope.c"],
    ["gcc", "-c", "ok.c", "nope.c"],
  ]) {
    const { d, z } = compareWithBare(dir, args, ["nope.o", "ok.o"]);
    expectUncacheable(d, "missing-input");
    expect(z.code).not.toBe(0);
    expect(z.err).toContain("nope.c");
  }
});

test("a link that compiles sources is not cached and produces a working program", () => {
  // Links of objects and archives are cached (tests/e2e/link-*.test.ts); compile-and-link is not.
  const dir = scenario("link");
  put(dir, "main.c", HELLO);
  put(dir, "h.h", "#define VALUE 42\n");
  for (const args of [
    ["gcc", "main.c", "-o", "prog"],
    ["clang", "main.c", "-o", "prog"],
  ]) {
    rm(path.join(dir, "prog"));
    const { r, d } = zcMeasured(args, dir);
    expect(r.code).toBe(0);
    expectUncacheable(d, "compile-and-link");
    const p = run([path.join(dir, "prog")], { cwd: dir });
    expect(p.code).toBe(0);
    expect(p.out).toBe("hello 42\n");
  }
  // A failing link keeps the linker's error and exit code, and is never stored.
  put(dir, "nomain.c", "int helper(void) { return 0; }\n");
  expect(bare(["gcc", "-c", "nomain.c", "-o", "nomain.o"], dir).code).toBe(0);
  const { d } = compareWithBare(dir, ["gcc", "nomain.o", "-o", "prog2"], ["prog2"]);
  expectUncacheable(d, "compile-failed");
});

describe("unknown compilers", () => {
  test("/bin/true and /bin/false keep their exit codes", () => {
    const dir = scenario("unknown-bin");
    const t = zcMeasured(["/bin/true", "x"], dir);
    expect(t.r.code).toBe(0);
    expectUncacheable(t.d, "unknown-compiler");
    expect(t.r.out).toBe("");
    const f = zcMeasured(["/bin/false", "-c", "x.c"], dir);
    expect(f.r.code).toBe(1);
    expectUncacheable(f.d, "unknown-compiler");
  });

  test("a script named mycompiler: stdio, arguments and exit code pass through", () => {
    const dir = scenario("unknown-script");
    const bin = path.join(dir, "bin");
    const script = put(
      dir,
      "bin/mycompiler",
      '#!/bin/sh\necho "out:$#:$*"\necho "err:$1" >&2\nread line || true\necho "stdin:$line"\nexit 3\n',
    );
    fs.chmodSync(script, 0o755);
    const byPath = zcMeasured([script, "-c", "a b.c", "-o", "x.o"], dir, { stdin: "fed\n" });
    expectUncacheable(byPath.d, "unknown-compiler");
    expect(byPath.r.code).toBe(3);
    expect(byPath.r.out).toBe("out:4:-c a b.c -o x.o\nstdin:fed\n");
    expect(byPath.r.err).toBe("err:-c\n");
    const b = run([script, "-c", "a b.c", "-o", "x.o"], { cwd: dir, stdin: "fed\n" });
    expectSameRun(byPath.r, b, "mycompiler by path");

    const byName = zcMeasured(["mycompiler", "-c", "y.c"], dir, { env: { PATH: `${bin}:${process.env.PATH ?? ""}` } });
    expectUncacheable(byName.d, "unknown-compiler");
    expect(byName.r.code).toBe(3);
    expect(byName.r.out).toBe("out:2:-c y.c\nstdin:\n");
  });

  test("a compiler that does not exist", () => {
    const dir = scenario("unknown-missing");
    const { r, d } = zcMeasured([path.join(dir, "no-such-cc"), "-c", "x.c"], dir);
    expectUncacheable(d, "unknown-compiler");
    expect(r.code).not.toBe(0);
  });
});

test("an unknown option: not cached, compiler runs as bare", () => {
  const dir = scenario("unknown-option");
  put(dir, "u.c", "int u(void) { return 4; }\n");
  // Valid for gcc but not in zccache's option table.
  for (let i = 0; i < 2; i++) {
    const { d, z } = compareWithBare(dir, ["gcc", "-no-canonical-prefixes", "-c", "u.c", "-o", "u.o"], ["u.o"]);
    expectUncacheable(d, "unknown-option");
    expect(z.code).toBe(0);
  }
  // Not valid anywhere: the compiler's own error and exit code.
  const bad = compareWithBare(dir, ["gcc", "--frobnicate", "-c", "u.c", "-o", "u.o"], ["u.o"]);
  expectUncacheable(bad.d, "unknown-option");
  expect(bad.z.code).not.toBe(0);
  expect(bad.z.err).toContain("frobnicate");
});
