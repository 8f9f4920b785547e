// clang-tidy and include-what-you-use through the cache: a miss then a hit that replays the
// bare tool's stdout, stderr and exit code byte for byte; a changed header, `.clang-tidy`,
// check list or mapping file misses; fix-it runs and failed parses are never stored.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type RunResult } from "../helpers.ts";
import { type OutcomeCounts, outcomeCounts } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

const HAVE_TIDY = requireTool("clang-tidy", "clang-tidy suite");
const HAVE_IWYU = requireTool("include-what-you-use", "include-what-you-use suite");
const HAVE_CMAKE = HAVE_TIDY && HAVE_IWYU && requireTool("cmake", "CMake co-compile test") && requireTool("ninja", "CMake co-compile test");

type Delta = OutcomeCounts;
const diff = outcomeCounts;

function zc(argv: readonly string[], cwd: string): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(argv, { cwd });
  return { r, d: diff(before, env.status()) };
}

const HIT: Delta = { hits: 1, misses: 0, uncacheable: 0, reasons: {} };
const NEW: Delta = { hits: 0, misses: 1, uncacheable: 0, reasons: { "new-source": 1 } };
const CHANGED: Delta = { hits: 0, misses: 1, uncacheable: 0, reasons: { "inputs-changed": 1 } };

/** Files written by a test are dated 10 s back: outside the racy window, so a hit is a real one. */
function backdate(p: string): void {
  const t = new Date(Date.now() - 10_000);
  const st = fs.statSync(p);
  if (st.isDirectory()) for (const n of fs.readdirSync(p)) backdate(path.join(p, n));
  fs.utimesSync(p, t, t);
}

function write(p: string, text: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  backdate(p);
}

const SOURCE = `#include "a.h"
#include <string.h>
int main(void) {
  char *p = 0;
  int x;
  if (p) x = 1;
  if (x) return 2;
  return x + (int)strlen("a") + f(1);
}
`;

/** A fresh tree `<name>/proj/sub` with a.c and inc/a.h; returns the sub dir (the cwd). */
function project(name: string): string {
  const sub = path.join(env.work, name, "proj", "sub");
  write(path.join(sub, "inc", "a.h"), "#include <stdio.h>\nint f(int x);\n");
  write(path.join(sub, "a.c"), SOURCE);
  return sub;
}

/** Runs `argv` bare and through zccache; stdout, stderr and exit code must be the bare run's. */
function sameAsBare(argv: readonly string[], cwd: string, want: Delta): RunResult {
  const b = bare(argv, cwd);
  const { r, d } = zc(argv, cwd);
  expect(d).toEqual(want);
  expect(r.code).toBe(b.code);
  expect(r.out).toBe(b.out);
  expect(r.err).toBe(b.err);
  expect(r.stdout.equals(b.stdout)).toBe(true);
  expect(r.stderr.equals(b.stderr)).toBe(true);
  return r;
}

const tidy = (checks: readonly string[], extra: readonly string[] = []): string[] => [
  "clang-tidy",
  ...checks,
  ...extra,
  "a.c",
  "--",
  "cc",
  "-Iinc",
  "-c",
  "-o",
  "a.o",
];
const ANALYZER = ["-checks=-*,clang-analyzer-*"];

describe.skipIf(!HAVE_TIDY)("clang-tidy", () => {
  test("miss then hit, byte-identical to the bare tool, warnings as errors included", () => {
    const cwd = project("tidy-basic");
    const first = sameAsBare(tidy(ANALYZER), cwd, NEW);
    expect(first.out).toContain("clang-analyzer-core");
    sameAsBare(tidy(ANALYZER), cwd, HIT);
    // A failing exit code of a finished analysis is its answer: cached too.
    const asErrors = tidy(ANALYZER, ["-warnings-as-errors=*"]);
    expect(sameAsBare(asErrors, cwd, NEW).code).toBe(1);
    expect(sameAsBare(asErrors, cwd, HIT).code).toBe(1);
    // CMake's form: `zccache clang-tidy … a.c -- <compiler> <args>` from the build dir.
    sameAsBare(["clang-tidy", ...ANALYZER, "a.c", "--", "/usr/bin/cc", "-Iinc", "-MD", "-MT", "a.o", "-MF", "a.o.d", "-o", "a.o", "-c", "a.c"], cwd, NEW);
    expect(fs.existsSync(path.join(cwd, "a.o.d"))).toBe(false);
  });

  test("a changed header misses, then hits again", () => {
    const cwd = project("tidy-header");
    const argv = tidy(["-checks=-*,clang-analyzer-*,readability-braces-around-statements", "-header-filter=.*"]);
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    write(path.join(cwd, "inc", "a.h"), "#include <stdio.h>\nint f(int x);\nstatic inline int g(int a) { if (a) return 1; return 0; }\n");
    const r = sameAsBare(argv, cwd, CHANGED);
    expect(r.out).toContain("a.h:3");
    sameAsBare(argv, cwd, HIT);
    // A new header that shadows a system one the analysis read (<stdio.h> through -Iinc).
    write(path.join(cwd, "inc", "stdio.h"), "int shadowed(void);\n");
    sameAsBare(argv, cwd, CHANGED);
    sameAsBare(argv, cwd, HIT);
    // Back to a header that says nothing: a miss again, not the entry from before the change.
    write(path.join(cwd, "inc", "a.h"), "int f(int x);\n");
    expect(sameAsBare(argv, cwd, CHANGED).out).not.toContain("a.h:3");
  });

  test("a new .clang-tidy in a parent directory misses, and so does a changed one", () => {
    const cwd = project("tidy-config");
    const argv = tidy([]);
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    const config = path.join(cwd, "..", ".clang-tidy");
    write(config, "Checks: '-*,readability-braces-around-statements'\n");
    const braces = sameAsBare(argv, cwd, CHANGED);
    expect(braces.out).toContain("readability-braces-around-statements");
    sameAsBare(argv, cwd, HIT);
    write(config, "Checks: '-*,clang-analyzer-*'\n");
    const analyzer = sameAsBare(argv, cwd, CHANGED);
    expect(analyzer.out).toContain("clang-analyzer-core");
    sameAsBare(argv, cwd, HIT);
    // --config-file: its content is in the key.
    const named = path.join(cwd, "tidy.yaml");
    write(named, "Checks: '-*,readability-braces-around-statements'\n");
    sameAsBare(tidy([`--config-file=${named}`]), cwd, NEW);
    sameAsBare(tidy([`--config-file=${named}`]), cwd, HIT);
    write(named, "Checks: '-*,clang-analyzer-*'\n");
    sameAsBare(tidy([`--config-file=${named}`]), cwd, NEW);
  });

  test("a changed check list on the command line misses", () => {
    const cwd = project("tidy-checks");
    sameAsBare(tidy(ANALYZER), cwd, NEW);
    const braces = tidy(["-checks=-*,readability-braces-around-statements"]);
    const r = sameAsBare(braces, cwd, NEW);
    expect(r.out).toContain("readability-braces-around-statements");
    sameAsBare(braces, cwd, HIT);
    sameAsBare(tidy(ANALYZER), cwd, HIT);
  });

  test("fix-it runs are not cached and still write their files", () => {
    const cwd = project("tidy-fix");
    const fixes = path.join(cwd, "fixes.yaml");
    for (let i = 0; i < 2; i++) {
      fs.rmSync(fixes, { force: true });
      const { r, d } = zc(tidy(["-checks=-*,readability-braces-around-statements", `--export-fixes=${fixes}`]), cwd);
      expect(d).toEqual({ hits: 0, misses: 0, uncacheable: 1, reasons: { "side-file": 1 } });
      expect(r.code).toBe(0);
      expect(fs.readFileSync(fixes, "utf8")).toContain("readability-braces-around-statements");
    }
    const { d } = zc(tidy(["-checks=-*,readability-braces-around-statements", "-fix"]), cwd);
    expect(d).toEqual({ hits: 0, misses: 0, uncacheable: 1, reasons: { "side-file": 1 } });
    expect(fs.readFileSync(path.join(cwd, "a.c"), "utf8")).toContain("if (p) {");
  });

  test("a file that does not parse is not stored", () => {
    const cwd = project("tidy-broken");
    write(path.join(cwd, "a.c"), "int main( {\n");
    for (let i = 0; i < 2; i++) {
      const b = bare(tidy(ANALYZER), cwd);
      const { r, d } = zc(tidy(ANALYZER), cwd);
      expect(d).toEqual({ hits: 0, misses: 0, uncacheable: 1, reasons: { "compile-failed": 1 } });
      expect([r.code, r.out, r.err]).toEqual([b.code, b.out, b.err]);
    }
  });
});

describe.skipIf(!HAVE_IWYU)("include-what-you-use", () => {
  const iwyu = (extra: readonly string[] = []): string[] => ["include-what-you-use", "-Xiwyu", "--error=3", ...extra, "-Iinc", "a.c"];

  test("miss then hit with its non-zero exit code", () => {
    const cwd = project("iwyu-basic");
    const first = sameAsBare(iwyu(), cwd, NEW);
    expect(first.code).toBe(3);
    expect(first.err).toContain("should remove these lines");
    sameAsBare(iwyu(), cwd, HIT);
    // CMake's form: the compile without its compiler word.
    sameAsBare(["include-what-you-use", "-Iinc", "-o", "a.o", "-c", "a.c"], cwd, NEW);
    sameAsBare(["include-what-you-use", "-Iinc", "-o", "a.o", "-c", "a.c"], cwd, HIT);
    // A changed header misses.
    write(path.join(cwd, "inc", "a.h"), "#include <stdio.h>\n#include <stdlib.h>\nint f(int x);\n");
    sameAsBare(iwyu(), cwd, CHANGED);
  });

  test("a changed mapping file misses", () => {
    const cwd = project("iwyu-mapping");
    const map = path.join(cwd, "own.imp");
    write(map, '[\n  { include: ["<bits/types/FILE.h>", "private", "<stdio.h>", "public"] }\n]\n');
    const argv = iwyu([`-Xiwyu`, `--mapping_file=${map}`]);
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    write(map, '[\n  { include: ["<bits/types/FILE.h>", "private", "<stdio.h>", "public"] },\n  { symbol: ["strlen", "private", "<stdlib.h>", "public"] }\n]\n');
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    // A file the mapping file references is an input as well.
    const inner = path.join(cwd, "inner.imp");
    write(inner, '[\n  { symbol: ["strlen", "private", "<stdlib.h>", "public"] }\n]\n');
    write(map, '[\n  { ref: "inner.imp" }\n]\n');
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    write(inner, '[\n  { symbol: ["strlen", "private", "<stdio.h>", "public"] }\n]\n');
    sameAsBare(argv, cwd, NEW);
  });

  test("a file that does not parse is not stored", () => {
    const cwd = project("iwyu-broken");
    write(path.join(cwd, "a.c"), "int main( {\n");
    for (let i = 0; i < 2; i++) {
      const b = bare(iwyu(), cwd);
      const { r, d } = zc(iwyu(), cwd);
      expect(d).toEqual({ hits: 0, misses: 0, uncacheable: 1, reasons: { "compile-failed": 1 } });
      expect([r.code, r.out, r.err]).toEqual([b.code, b.out, b.err]);
    }
  });
});

describe.skipIf(!HAVE_CMAKE)("CMake", () => {
  test("CMAKE_C_CLANG_TIDY and CMAKE_C_INCLUDE_WHAT_YOU_USE with zccache in front: a rebuild replays both", () => {
    const top = path.join(env.work, "cmake");
    write(path.join(top, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.10)\nproject(t C)\nadd_executable(t src/a.c)\ntarget_include_directories(t PRIVATE src)\n");
    write(path.join(top, "src", "a.h"), "#include <stdio.h>\nint f(int x);\n");
    write(path.join(top, "src", "a.c"), SOURCE.replace('"a.h"', '"a.h"\nint f(int x) { return x; }'));
    const zccache = process.env.ZCCACHE_TEST_BIN || path.join(import.meta.dir, "..", "..", "dist", "zccache");
    const configure = (dir: string, prefix: string): void => {
      const c = bare(
        [
          "cmake",
          "-S",
          top,
          "-B",
          dir,
          "-G",
          "Ninja",
          `-DCMAKE_C_CLANG_TIDY=${prefix}clang-tidy;-checks=-*,clang-analyzer-*`,
          `-DCMAKE_C_INCLUDE_WHAT_YOU_USE=${prefix}include-what-you-use;-Xiwyu;--error=3`,
        ],
        top,
        env.env,
      );
      expect(c.code).toBe(0);
    };
    const build = (dir: string): RunResult => bare(["ninja"], dir, env.env);
    const plain = path.join(top, "b-bare");
    const cached = path.join(top, "b-zc");
    configure(plain, "");
    configure(cached, `${zccache};`);
    const want = build(plain);
    expect(want.code).toBe(0);
    expect(want.out).toContain("clang-analyzer-core");
    expect(want.out).toContain("include-what-you-use reported diagnostics");
    const before = env.status();
    const miss = build(cached);
    expect(diff(before, env.status())).toEqual({ hits: 0, misses: 2, uncacheable: 0, reasons: { "new-source": 2 } });
    expect(bare(["ninja", "-t", "clean"], cached).code).toBe(0);
    const mid = env.status();
    const hit = build(cached);
    expect(diff(mid, env.status())).toEqual({ hits: 2, misses: 0, uncacheable: 0, reasons: {} });
    for (const r of [miss, hit]) expect([r.code, r.out, r.err]).toEqual([want.code, want.out, want.err]);
  });
});
