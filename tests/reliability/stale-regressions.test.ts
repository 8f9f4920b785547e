// Deterministic regression cases for the stale hits and diagnostics differences the
// adversarial suite found. Each case: compile through zccache (miss, then usually a hit),
// change the world the way the case says, then compile bare and through zccache in the same
// cwd with the same arguments; objects, depfiles, stdout, stderr and exit codes must match.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, sleepMs, tempDir } from "../helpers.ts";
import { compareOnce, prime, primeUncacheable } from "./compare.ts";

afterAll(() => CacheEnv.stopAll());

describe("include search: paths the compiler resolves differently from a lexical join", () => {
  for (const opt of ["-include", "-imacros"]) {
    test(`${opt} cfg.h is looked up in the cwd first: a new ./cfg.h must not be served stale`, () => {
      const c = new CacheEnv();
      c.write("src/a.c", "int cfg_value(void) { return CFG; }\n");
      c.write("inc/cfg.h", "#define CFG 1\n");
      const argv = ["gcc", "-O1", opt, "cfg.h", "-Iinc", "-c", "src/a.c", "-o", "a.o"];
      prime(c, argv);
      // gcc: "the first directory searched for file is the preprocessor's working directory".
      c.write("cfg.h", "#define CFG 2\n");
      expect(compareOnce(c, argv, ["a.o"])).toBe("");
    });
  }

  test('"../x.h" from a header in a symlinked directory: an edit of the real x.h is noticed', () => {
    const c = new CacheEnv();
    // inc/lnk -> ../real/sub; "inc/lnk/../v.h" is real/v.h to the kernel, inc/v.h lexically.
    c.write("real/sub/h.h", '#include "../v.h"\n');
    c.write("real/v.h", "#define V 1\n");
    c.write("inc/v.h", "#define V 100\n");
    fs.symlinkSync("../real/sub", path.join(c.work, "inc/lnk"));
    c.write("b.c", '#include "inc/lnk/h.h"\nint v_value(void) { return V; }\n');
    const argv = ["gcc", "-O1", "-c", "b.c", "-o", "b.o"];
    prime(c, argv);
    c.write("real/v.h", "#define V 3\n");
    expect(compareOnce(c, argv, ["b.o"])).toBe("");
  });

  test("a dangling symlink in an earlier -I directory that starts resolving shadows the old header", () => {
    const c = new CacheEnv();
    c.write("inc/b/h.h", "#define HV 1\n");
    fs.mkdirSync(path.join(c.work, "inc/a"), { recursive: true });
    fs.mkdirSync(path.join(c.work, "gen"), { recursive: true });
    // A link to a generated header that does not exist yet: the compiler skips it.
    fs.symlinkSync("../../gen/h.h", path.join(c.work, "inc/a/h.h"));
    c.write("d.c", "#include <h.h>\nint hv(void) { return HV; }\n");
    const argv = ["gcc", "-O1", "-Iinc/a", "-Iinc/b", "-c", "d.c", "-o", "d.o"];
    prime(c, argv);
    // The generator runs: inc/a/h.h now resolves, and wins.
    c.write("gen/h.h", "#define HV 2\n");
    expect(compareOnce(c, argv, ["d.o"])).toBe("");
  });

  test("a directory named like the header in an earlier -I directory, later replaced by the header", () => {
    const c = new CacheEnv();
    c.write("inc/b/h.h", "#define HV 1\n");
    fs.mkdirSync(path.join(c.work, "inc/a/h.h"), { recursive: true });
    c.write("e.c", "#include <h.h>\nint hv(void) { return HV; }\n");
    const argv = ["gcc", "-O1", "-Iinc/a", "-Iinc/b", "-c", "e.c", "-o", "e.o"];
    prime(c, argv);
    fs.rmdirSync(path.join(c.work, "inc/a/h.h"));
    c.write("inc/a/h.h", "#define HV 2\n");
    expect(compareOnce(c, argv, ["e.o"])).toBe("");
  });

  test("a shadowing header created while the compile runs is not trusted afterwards", () => {
    const c = new CacheEnv();
    // A compiler that takes a while: the shadowing header appears after it has searched
    // the include path but before it is done (a code generator running in parallel).
    const bin = tempDir("zc-slowcc-");
    const wrapper = path.join(bin, "gcc");
    fs.writeFileSync(
      wrapper,
      [
        "#!/bin/sh",
        '/usr/bin/gcc "$@"',
        "rc=$?",
        // Only after the compile itself: the daemon also runs this wrapper before it
        // (-print-prog-name), and a header made then is simply read by the compile.
        'case " $* " in *" -c "*)',
        '  if [ -n "$ZC_REL_GENERATE" ] && [ ! -e "$ZC_REL_GENERATE" ]; then printf "#define HV 2\\n" > "$ZC_REL_GENERATE"; fi ;;',
        "esac",
        "exit $rc",
        "",
      ].join("\n"),
    );
    fs.chmodSync(wrapper, 0o755);
    c.write("inc/b/h.h", "#define HV 1\n");
    fs.mkdirSync(path.join(c.work, "inc/a"), { recursive: true });
    c.write("f.c", "#include <h.h>\nint hv(void) { return HV; }\n");
    const argv = [wrapper, "-O1", "-Iinc/a", "-Iinc/b", "-c", "f.c", "-o", "f.o"];
    const generated = path.join(c.work, "inc/a/h.h");
    const before = c.status();
    const r = c.zc(argv, { env: { ZC_REL_GENERATE: generated } });
    expect(r.code).toBe(0);
    expect(fs.existsSync(generated)).toBe(true);
    // The compile read inc/b/h.h; the header appeared after that, so nothing may be stored.
    const after = c.status();
    expect((after.reasons["racy-input"] ?? 0) - (before.reasons["racy-input"] ?? 0)).toBe(1);
    // The header now in inc/a wins for every later compile.
    expect(compareOnce(c, argv, ["f.o"])).toBe("");
  });
});

describe("outputs someone else writes", () => {
  test("an object rewritten by a concurrent writer before the daemon reads it is never served", async () => {
    const c = new CacheEnv();
    // Two builds of one tree at once: after our compiler has exited, while the daemon is still
    // busy with our miss (here: its `-v` query for the system include dirs), another compile
    // of the same command truncates the object and later rewrites it. What the daemon would
    // read then is not what our compiler wrote.
    //
    // The steps are ordered by marker files, not by sleeps: the daemon also runs the wrapper
    // before the compile (-print-prog-name), and a compile slower than a sleep would let the
    // truncation land while the compiler still runs, where no one can tell it from the
    // compiler's own writes. Each wait is bounded, so a changed daemon cannot hang the test.
    const bin = tempDir("zc-clobber-");
    const wrapper = path.join(bin, "gcc");
    fs.writeFileSync(
      wrapper,
      [
        "#!/bin/sh",
        'm="$ZC_REL_CLOBBER"',
        'wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done; }',
        'case " $* " in *" -v "*)',
        // The daemon's query after the compile: let the other writer in, and wait for it.
        '  if [ -n "$m" ] && [ -e "$m.started" ] && [ ! -e "$m.querying" ]; then touch "$m.querying"; wait_for "$m.truncated"; fi ;;',
        "esac",
        '/usr/bin/gcc "$@"',
        "rc=$?",
        'case " $* " in *" -c "*)',
        '  if [ -n "$m" ] && [ ! -e "$m.started" ]; then',
        '    touch "$m.started"',
        '    ( wait_for "$m.querying"; truncate -s 64 "$m"; touch "$m.truncated"; sleep 1; /usr/bin/gcc "$@"; touch "$m.finished" ) </dev/null >/dev/null 2>&1 &',
        "  fi ;;",
        "esac",
        "exit $rc",
        "",
      ].join("\n"),
    );
    fs.chmodSync(wrapper, 0o755);
    c.write("r.c", Array.from({ length: 60 }, (_, i) => `int r_${i}(int x) { return x * ${i + 3}; }`).join("\n"));
    const obj = path.join(c.work, "r.o");
    const argv = [wrapper, "-O1", "-c", "r.c", "-o", "r.o"];
    const before = c.status();
    const r = c.zc(argv, { env: { ZC_REL_CLOBBER: obj } });
    expect(r.code).toBe(0);
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(`${obj}.finished`) && Date.now() < deadline) await sleepMs(50);
    expect(fs.existsSync(`${obj}.finished`)).toBe(true);
    // The truncation came while the daemon was querying, after the compiler had exited.
    expect(fs.existsSync(`${obj}.querying`)).toBe(true);
    const after = c.status();
    expect(after.hits).toBe(before.hits);
    expect((after.reasons["racy-input"] ?? 0) - (before.reasons["racy-input"] ?? 0)).toBe(1);
    // Every later compile of that command must give what the compiler gives.
    expect(compareOnce(c, argv, ["r.o"])).toBe("");
    expect(compareOnce(c, argv, ["r.o"])).toBe("");
  });
});

describe("inputs the compiler reads that no depfile names", () => {
  test(".incbin in inline assembly: a changed data file is noticed", () => {
    const c = new CacheEnv();
    c.write("data.bin", "first contents\n");
    c.write(
      "ib.c",
      '__asm__(".section .rodata\\n.globl blob\\nblob: .incbin \\"data.bin\\"\\n.previous");\nint ib(void) { return 0; }\n',
    );
    const argv = ["gcc", "-O1", "-c", "ib.c", "-o", "ib.o"];
    primeUncacheable(c, argv);
    c.write("data.bin", "second, longer contents\n");
    expect(compareOnce(c, argv, ["ib.o"])).toBe("");
  });
});

describe("diagnostics identical to a bare compile", () => {
  test("GCC_EXTRA_DIAGNOSTIC_OUTPUT=fixits-v1 changes what gcc prints", () => {
    const c = new CacheEnv();
    c.write("fx.c", 'int fx(void) { printf("x"); return 0; }\n');
    const argv = ["gcc", "-O1", "-c", "fx.c", "-o", "fx.o"];
    prime(c, argv);
    expect(compareOnce(c, argv, ["fx.o"], { GCC_EXTRA_DIAGNOSTIC_OUTPUT: "fixits-v1" })).toBe("");
    // And back: the plain run must not get the fix-it lines.
    expect(compareOnce(c, argv, ["fx.o"])).toBe("");
  });

  test("#pragma GCC dependency: the 'older than' warning follows the dependency's mtime", () => {
    const c = new CacheEnv();
    const grammar = c.write("parse.y", "grammar\n");
    const src = c.write("p.c", '#pragma GCC dependency "parse.y"\nint p(void) { return 1; }\n');
    fs.utimesSync(grammar, new Date("2020-01-01"), new Date("2020-01-01"));
    fs.utimesSync(src, new Date("2021-01-01"), new Date("2021-01-01"));
    const argv = ["gcc", "-O1", "-c", "p.c", "-o", "p.o"];
    primeUncacheable(c, argv);
    // Only the mtime changes: gcc now warns that p.c is older than parse.y.
    const now = new Date();
    fs.utimesSync(grammar, now, now);
    expect(compareOnce(c, argv, ["p.o"])).toBe("");
  });

  test("clang: a diagnostic quoting a source line that starts with '. ' is replayed whole", () => {
    const c = new CacheEnv();
    c.write("dot.c", "struct S { int a __attribute__((deprecated)); };\nint h(struct S s) { return s\n. a; }\n");
    const argv = ["clang", "-O1", "-c", "dot.c", "-o", "dot.o"];
    // The miss itself must already print what clang printed.
    expect(compareOnce(c, argv, ["dot.o"])).toBe("");
    expect(compareOnce(c, argv, ["dot.o"])).toBe("");
  });
});
