// preprocessor_fallback under attack: compiles that preprocess to the same text (and read the
// same files) yet must not share a result, depfiles written after a hit by text, and the
// direct entry recorded after such a hit. Every compile is checked against the bare compiler
// run with the same command in the same directory: object, depfile, side files, stdout,
// stderr and exit code, byte for byte.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, hasTool, sleepMs } from "../helpers.ts";
import { type Compared, compiled as compiledIn, putOld, tree as treeIn, UNCACHEABLE } from "../fixtures/compared.ts";

afterAll(() => CacheEnv.stopAll());

const on = new CacheEnv({ ZCCACHE_PREPROCESSOR_FALLBACK: "1" });
const HAS_CLANG = hasTool("clang") && hasTool("clang++");
const COMPILERS = ["gcc", ...(HAS_CLANG ? ["clang"] : [])];

const tree = (name: string, files: Record<string, string>): string => treeIn(on, name, files);
const compiled = (dir: string, args: readonly string[], outs: readonly string[], env: Record<string, string> = {}): Compared =>
  compiledIn(on, dir, args, outs, env);

let unique = 0;
/** A comment that keeps each test's text its own (the same text in two tests would rightly hit across them). */
const tag = (): string => `/* attack ${++unique} ${process.pid} */\n`;

describe("the text does not say where a token came from (macro provenance decides diagnostics)", () => {
  // The first compile is quiet and stored by its text; the second preprocesses to the same
  // text from the same files, but the compiler proper warns (or, with -Werror, fails) because
  // a token that came from a macro in the first comes from the file itself in the second.
  test("clang: an identity macro (-Dx=x) hides -Wmisleading-indentation; without it the compile fails", () => {
    if (!HAS_CLANG) return;
    const src = `${tag()}int g(int x) {\n  if (x)\n    x++;\n    x++;\n  return x;\n}\n`;
    const dir = tree("prov-clang-indent", { "m.c": src });
    const quiet = compiled(dir, ["clang", "-c", "-Wall", "-Werror", "-Dx=x", "-o", "m.o", "m.c"], ["m.o"]);
    expect(quiet.kind).toBe("miss");
    expect(quiet.z.code).toBe(0);
    // Bare: error: misleading indentation, exit 1. A hit by text would give exit 0 and an object.
    const loud = compiled(dir, ["clang", "-c", "-Wall", "-Werror", "-o", "m.o", "m.c"], ["m.o"]);
    expect(loud.kind).not.toBe("text-hit");
  });

  test("gcc: an identity macro (-Dx=x) hides -Wlogical-op; without it gcc warns", () => {
    const src = `${tag()}int g(int x) {\n  return x && x;\n}\n`;
    const dir = tree("prov-gcc-logical-op", { "l.c": src });
    const quiet = compiled(dir, ["gcc", "-c", "-Wlogical-op", "-Dx=x", "-o", "l.o", "l.c"], ["l.o"]);
    expect(quiet.kind).toBe("miss");
    expect(quiet.z.stderr.length).toBe(0);
    const loud = compiled(dir, ["gcc", "-c", "-Wlogical-op", "-o", "l.o", "l.c"], ["l.o"]);
    expect(loud.kind).not.toBe("text-hit");
  });

  test("clang++: a macro a system header defines is quiet; the same macro overridden by -D fails -Werror", () => {
    if (!HAS_CLANG) return;
    const dir = tree("prov-clang-system-macro", {
      "sys/cfg.h": "#ifndef MY_NULL\n#define MY_NULL 0\n#endif\n",
      "n.cc": `${tag()}#include <cfg.h>\nint *g() {\n  return MY_NULL;\n}\n`,
    });
    const base = ["clang++", "-c", "-Werror", "-Wzero-as-null-pointer-constant", "-isystem", "sys"];
    const quiet = compiled(dir, [...base, "-o", "n.o", "n.cc"], ["n.o"]);
    expect(quiet.kind).toBe("miss");
    expect(quiet.z.code).toBe(0);
    // A build that sets the configuration macro itself: the expansion is no longer a system
    // header's, and clang says so (exit 1).
    const loud = compiled(dir, [...base, "-DMY_NULL=0", "-o", "n.o", "n.cc"], ["n.o"]);
    expect(loud.kind).not.toBe("text-hit");
  });

  test("gcc: a system header's macro is quiet, the same macro from -D warns; gcc marks such expansions in the text (regression)", () => {
    const dir = tree("prov-gcc-system-macro", {
      "sys/cfg.h": "#ifndef DECL_UNUSED\n#define DECL_UNUSED int unused_local = 3\n#endif\n",
      "s.c": `${tag()}#include <cfg.h>\nint f(void) { DECL_UNUSED; return 0; }\n`,
    });
    const base = ["gcc", "-c", "-Wall", "-Werror", "-isystem", "sys"];
    const quiet = compiled(dir, [...base, "-o", "s.o", "s.c"], ["s.o"]);
    expect(quiet.kind).toBe("miss");
    expect(quiet.z.code).toBe(0);
    expect(compiled(dir, [...base, "-DDECL_UNUSED=int unused_local = 3", "-o", "s.o", "s.c"], ["s.o"]).kind).not.toBe("text-hit");
  });
});

describe("options that make the text say less than the compile sees", () => {
  for (const cc of COMPILERS) {
    test(`${cc} -g -P: no line markers, so code a -D moves to another line preprocesses the same; debug lines differ`, () => {
      // Both gaps are longer than the run of blank lines either compiler keeps under -P.
      const src = `${tag()}int x0;\n#ifdef FIRST\n${"\n".repeat(10)}int f(void) { return 1; }\n#else\n${"\n".repeat(20)}int f(void) { return 1; }\n#endif\n`;
      const dir = tree(`dash-P-${cc}`, { "p.c": src });
      expect(compiled(dir, [cc, "-c", "-g", "-P", "-DFIRST", "-o", "p.o", "p.c"], ["p.o"]).kind).toBe("miss");
      // Bare puts f 10 lines further down in the debug info than the first compile's object says.
      expect(compiled(dir, [cc, "-c", "-g", "-P", "-DSECOND", "-o", "p.o", "p.c"], ["p.o"]).kind).not.toBe("text-hit");
    });
  }

  // Direct mode too: an argument can carry a time macro a file would; such a compile is not stored.
  test("a -D whose value is __TIME__ is not stored, so a later compile sees its own time", async () => {
    const dir = tree("time-in-D", { "t.c": `${tag()}const char *built(void) { return STAMP; }\n` });
    const args = (d: string): string[] => ["gcc", "-c", "-DSTAMP=__TIME__", d, "-o", "t.o", "t.c"];
    // Not compared with a bare compile (the two could straddle a second): each run must be a
    // compile of its own, so two runs a second apart give objects with different times.
    const once = (): Buffer => {
      const before = on.status();
      expect(on.zc(args("-DA"), { cwd: dir }).code).toBe(0);
      const after = on.status();
      expect({ hits: after.hits - before.hits, uncacheable: after.uncacheable - before.uncacheable }).toEqual({ hits: 0, uncacheable: 1 });
      return fs.readFileSync(path.join(dir, "t.o"));
    };
    const first = once();
    // __TIME__ has a resolution of one second: the next compile must see another time.
    await sleepMs(1100);
    expect(once().equals(first)).toBe(false);
  });
});

// (zccache refuses these compiles today: kept as regression tests.)
describe("outputs that record the command line", () => {
  test("clang -frecord-command-line: the object holds every -D, so another -D must not hit by text", () => {
    if (!HAS_CLANG) return;
    const dir = tree("record-cmdline-D", { "s.c": `${tag()}int g(int n) { return n + 1; }\n` });
    compiled(dir, ["clang", "-c", "-frecord-command-line", "-DFIRST", "-o", "s.o", "s.c"], ["s.o"]);
    expect(compiled(dir, ["clang", "-c", "-frecord-command-line", "-DSECOND", "-o", "s.o", "s.c"], ["s.o"]).kind).not.toBe("text-hit");
  });

  test("clang -g -grecord-command-line: the same through the debug info", () => {
    if (!HAS_CLANG) return;
    const dir = tree("record-cmdline-g", { "s.c": `${tag()}int g(int n) { return n + 2; }\n` });
    compiled(dir, ["clang", "-c", "-g", "-grecord-command-line", "-Iinc1", "-o", "s.o", "s.c"], ["s.o"]);
    expect(compiled(dir, ["clang", "-c", "-g", "-grecord-command-line", "-Iinc2", "-o", "s.o", "s.c"], ["s.o"]).kind).not.toBe("text-hit");
  });

  test("clang -frecord-command-line: the object holds its -o, so another output name must not hit", () => {
    if (!HAS_CLANG) return;
    const dir = tree("record-cmdline-o", { "s.c": `${tag()}int g(int n) { return n + 3; }\n` });
    compiled(dir, ["clang", "-c", "-frecord-command-line", "-o", "a.o", "s.c"], ["a.o"]);
    expect(compiled(dir, ["clang", "-c", "-frecord-command-line", "-o", "b.o", "s.c"], ["b.o"]).kind).not.toBe("hit");
  });

  test("gcc -g (producer string) and -S -fverbose-asm leave -D, -I and -M out: a hit by text is right (regression)", () => {
    const dir = tree("producer", { "s.c": `${tag()}#include "h.h"\nint g(int n) { return n + H; }\n`, "a/h.h": "#define H 4\n" });
    fs.cpSync(path.join(dir, "a"), path.join(dir, "b"), { recursive: true });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, "b/h.h"), old, old);
    // The same header text under another directory name shows in the line markers: a -D is the difference here.
    expect(compiled(dir, ["gcc", "-c", "-g", "-Ia", "-DFIRST", "-MD", "-o", "s.o", "s.c"], ["s.o", "s.d"]).kind).toBe("miss");
    expect(compiled(dir, ["gcc", "-c", "-g", "-Ia", "-DSECOND", "-o", "s.o", "s.c"], ["s.o"]).kind).toBe("text-hit");
    expect(compiled(dir, ["gcc", "-S", "-fverbose-asm", "-Ia", "-DFIRST", "-o", "s.s", "s.c"], ["s.s"]).kind).toBe("miss");
    expect(compiled(dir, ["gcc", "-S", "-fverbose-asm", "-Ia", "-DSECOND", "-o", "s.s", "s.c"], ["s.s"]).kind).toBe("text-hit");
  });
});

describe("other forms", () => {
  test("two sources in one command", () => {
    const dir = tree("two-sources", { "a.c": `${tag()}int a(void) { return 1; }\n`, "b.c": `${tag()}int b(void) { return 2; }\n` });
    compiled(dir, ["gcc", "-c", "-DFIRST", "a.c", "b.c"], ["a.o", "b.o"]);
    expect(compiled(dir, ["gcc", "-c", "-DSECOND", "a.c", "b.c"], ["a.o", "b.o"]).kind).not.toBe("text-hit");
  });

  // Direct mode too: __has_include spelled in an argument names no probe, so it is refused.
  test("a -D that tests __has_include is not stored: the header appearing later is seen", () => {
    const dir = tree("has-include-D", { "s.c": `${tag()}#if HAVE_X\n#include "x.h"\n#else\n#define X 0\n#endif\nint f(void) { return X; }\n` });
    const args = ["gcc", "-c", "-DHAVE_X=__has_include(\"x.h\")", "-o", "s.o", "s.c"];
    expect(compiled(dir, args, ["s.o"]).kind).toBe(UNCACHEABLE);
    putOld(dir, "x.h", "#define X 5\n");
    expect(compiled(dir, args, ["s.o"]).kind).not.toBe("hit");
  });
});

describe("the user's depfile after a hit by text is the one the compile writes", () => {
  const SRC = (): string => `${tag()}#include <stddef.h>\n#include "u.h"\nint u(int x) { return x + (int)sizeof(size_t) + U; }\n`;
  /** Each form: the dependency options, the -o (null: none), and the outputs to compare. */
  const forms: { name: string; deps: string[]; o: string | null; outs: string[]; clangMmd?: boolean; gccBinds?: boolean }[] = [
    { name: "-MD beside -o", deps: ["-MD"], o: "obj/u.o", outs: ["obj/u.o", "obj/u.d"] },
    { name: "-MMD beside -o", deps: ["-MMD"], o: "obj/u.o", outs: ["obj/u.o", "obj/u.d"], clangMmd: true },
    { name: "-MD, no -o", deps: ["-MD"], o: null, outs: ["u.o", "u.d"] },
    { name: "-MD -MF joined", deps: ["-MD", "-MFdeps/u.dep"], o: "obj/u.o", outs: ["obj/u.o", "deps/u.dep"] },
    { name: "-MD -MT -MT", deps: ["-MD", "-MF", "deps/u.d", "-MT", "first.o", "-MT", "second target.o"], o: "obj/u.o", outs: ["obj/u.o", "deps/u.d"] },
    { name: "-MD -MQ special", deps: ["-MD", "-MF", "deps/u.d", "-MQ", "$(OBJ)/a b#c.o"], o: "obj/u.o", outs: ["obj/u.o", "deps/u.d"] },
    // gcc writes every -MT target before every -MQ one: the template does not reproduce it and binds the entry.
    { name: "-MD -MP -MQ -MT", deps: ["-MD", "-MP", "-MF", "deps/u.d", "-MQ", "q$.o", "-MTt.o"], o: "obj/u.o", outs: ["obj/u.o", "deps/u.d"], gccBinds: true },
    { name: "-MMD -MP", deps: ["-MMD", "-MP", "-MF", "deps/u.d"], o: "obj/u.o", outs: ["obj/u.o", "deps/u.d"], clangMmd: true },
    { name: "-MD, -o with space and $", deps: ["-MD"], o: "obj/o u$t.o", outs: ["obj/o u$t.o", "obj/o u$t.d"] },
    { name: "-MD, a long path that wraps", deps: ["-MD", "-MF", "deps/u.d"], o: `obj/${"long_name_".repeat(9)}.o`, outs: [`obj/${"long_name_".repeat(9)}.o`, "deps/u.d"] },
  ];
  for (const cc of COMPILERS) {
    for (const f of forms) {
      test(`${cc}, ${f.name}`, () => {
        const dir = tree(`dep-${cc}-${f.name.replace(/\W+/g, "")}`, { "src/u.c": SRC(), "include/u.h": "#define U 3\n" });
        for (const d of ["obj", "deps"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
        const args = (d: string): string[] => [cc, "-c", "-O1", d, "-Iinclude", ...f.deps, ...(f.o === null ? [] : ["-o", f.o]), "src/u.c"];
        expect(compiled(dir, args("-DFIRST"), f.outs).kind).toBe("miss");
        // clang -MMD is not looked up by text (cc-preprocessed.ts); everything else must be.
        const second = compiled(dir, args("-DSECOND"), f.outs).kind;
        expect(second).toBe((cc === "clang" && f.clangMmd === true) || (cc === "gcc" && f.gccBinds === true) ? "miss" : "text-hit");
        // And the direct entry recorded from it renders the same depfile.
        expect(compiled(dir, args("-DSECOND"), f.outs).kind).toBe("hit");
      });
    }
  }

  for (const cc of COMPILERS) {
    test(`${cc}: stored without a depfile, hit by text with -MD -MP -MF -MT`, () => {
      const dir = tree(`dep-cross-${cc}`, { "src/u.c": SRC(), "include/u.h": "#define U 3\n" });
      const base = [cc, "-c", "-O1", "-Iinclude"];
      expect(compiled(dir, [...base, "-DFIRST", "-o", "u.o", "src/u.c"], ["u.o"]).kind).toBe("miss");
      const deps = ["-MD", "-MP", "-MF", "u.d", "-MT", "out/u.o"];
      expect(compiled(dir, [...base, "-DSECOND", ...deps, "-o", "u.o", "src/u.c"], ["u.o", "u.d"]).kind).toBe("text-hit");
    });
  }

  test("gcc: stored with a plain -MD, hit by text with -MQ before -MT (gcc writes the -MT targets first)", () => {
    const dir = tree("dep-mq-mt-order", { "src/u.c": SRC(), "include/u.h": "#define U 3\n" });
    const base = ["gcc", "-c", "-O1", "-Iinclude", "-MD", "-MF", "u.d"];
    expect(compiled(dir, [...base, "-DFIRST", "-o", "u.o", "src/u.c"], ["u.o", "u.d"]).kind).toBe("miss");
    // Bare: "t.o q$$.o: src/u.c ..."; the preprocessing run is given both as -MT in the order written.
    compiled(dir, [...base, "-DSECOND", "-MQ", "q$.o", "-MT", "t.o", "-o", "u.o", "src/u.c"], ["u.o", "u.d"]);
  });

  test("clang -fsanitize=address -MD: the ignore lists the compile names in its depfile", () => {
    if (!HAS_CLANG) return;
    const dir = tree("dep-clang-asan", { "s.c": `${tag()}int g(int *p) { return *p; }\n`, "ign.txt": "fun:nothing\n" });
    const args = (d: string): string[] => ["clang", "-c", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt", d, "-MD", "-MF", "s.d", "-o", "s.o", "s.c"];
    expect(compiled(dir, args("-DFIRST"), ["s.o", "s.d"]).kind).toBe("miss");
    expect(compiled(dir, args("-DSECOND"), ["s.o", "s.d"]).kind).toBe("text-hit");
  });
});

describe("side outputs after a hit by text", () => {
  test("gcc -fstack-usage: the .su file", () => {
    const dir = tree("side-su", { "s.c": `${tag()}int g(int n) { volatile char b[64]; b[0] = (char)n; return b[0]; }\n` });
    const args = (d: string): string[] => ["gcc", "-c", "-O1", "-fstack-usage", d, "-o", "s.o", "s.c"];
    expect(compiled(dir, args("-DFIRST"), ["s.o", "s.su"]).kind).toBe("miss");
    expect(compiled(dir, args("-DSECOND"), ["s.o", "s.su"]).kind).toBe("text-hit");
  });

  test("gcc -g -gsplit-dwarf, the same output name: the object and its .dwo", () => {
    const dir = tree("side-dwo", { "s.c": `${tag()}int g(int n) { return n * 7; }\n` });
    const args = (d: string): string[] => ["gcc", "-c", "-g", "-gsplit-dwarf", d, "-o", "s.o", "s.c"];
    expect(compiled(dir, args("-DFIRST"), ["s.o", "s.dwo"]).kind).toBe("miss");
    expect(["miss", "text-hit"]).toContain(compiled(dir, args("-DSECOND"), ["s.o", "s.dwo"]).kind);
  });

  test("gcc -g in another directory: the object records its cwd", () => {
    const a = tree("cwd-a/w", { "s.c": `${tag()}int g(int n) { return n * 9; }\n` });
    const b = path.join(on.work, "cwd-b/w");
    putOld(b, "s.c", fs.readFileSync(path.join(a, "s.c"), "utf8"));
    expect(compiled(a, ["gcc", "-c", "-g", "-DFIRST", "-o", "s.o", "s.c"], ["s.o"]).kind).toBe("miss");
    expect(compiled(b, ["gcc", "-c", "-g", "-DSECOND", "-o", "s.o", "s.c"], ["s.o"]).kind).toBe("miss");
  });
});

describe("the direct entry recorded after a hit by text stays valid only while it is right", () => {
  /** Stores by -DFIRST, hits by text with -DSECOND, then hits directly; `change` then must be noticed. */
  function recordedThenChanged(cc: string, name: string, files: Record<string, string>, extra: string[], change: (dir: string) => void): void {
    const dir = tree(name, files);
    const args = (d: string): string[] => [cc, "-c", d, ...extra, "-o", "s.o", "s.c"];
    expect(compiled(dir, args("-DFIRST"), ["s.o"]).kind).toBe("miss");
    expect(compiled(dir, args("-DSECOND"), ["s.o"]).kind).toBe("text-hit");
    expect(compiled(dir, args("-DSECOND"), ["s.o"]).kind).toBe("hit");
    change(dir);
    expect(compiled(dir, args("-DSECOND"), ["s.o"]).kind).not.toBe("hit");
  }

  for (const cc of COMPILERS) {
    test(`${cc}: a header added earlier in the search path`, () => {
      recordedThenChanged(
        cc,
        `earlier-${cc}`,
        { "s.c": `${tag()}#include "h.h"\nint f(void) { return H; }\n`, "late/h.h": "#define H 1\n", "early/keep.txt": "" },
        ["-Iearly", "-Ilate"],
        (dir) => putOld(dir, "early/h.h", "#define H 2\n"),
      );
    });

    test(`${cc}: a header __has_include did not find appears`, () => {
      recordedThenChanged(
        cc,
        `has-include-${cc}`,
        { "s.c": `${tag()}#if __has_include("opt.h")\n#include "opt.h"\n#else\n#define OPT 0\n#endif\nint f(void) { return OPT; }\n` },
        [],
        (dir) => putOld(dir, "opt.h", "#define OPT 7\n"),
      );
    });

    test(`${cc}: a directory between an #include_next and the header it found gets that header`, () => {
      recordedThenChanged(
        cc,
        `include-next-${cc}`,
        {
          "s.c": `${tag()}#include <h.h>\nint f(void) { return H; }\n`,
          "a/h.h": "#include_next <h.h>\n",
          "mid/keep.txt": "",
          "b/h.h": "#define H 1\n",
        },
        ["-Ia", "-Imid", "-Ib"],
        (dir) => putOld(dir, "mid/h.h", "#define H 2\n"),
      );
    });

    test(`${cc}: an -include'd header changes`, () => {
      recordedThenChanged(
        cc,
        `forced-${cc}`,
        { "s.c": `${tag()}int f(void) { return V; }\n`, "p.h": "#define V 1\n" },
        ["-include", "p.h"],
        (dir) => putOld(dir, "p.h", "#define V 2\n"),
      );
    });

    test(`${cc}: an -imacros file changes`, () => {
      recordedThenChanged(
        cc,
        `imacros-${cc}`,
        { "s.c": `${tag()}int f(void) { return V; }\n`, "m.h": "#define V 1\n" },
        ["-imacros", "m.h"],
        (dir) => putOld(dir, "m.h", "#define V 2\n"),
      );
    });
  }

  test("CPATH finds another header (the environment reaches the text, not the key's arguments)", () => {
    const dir = tree("cpath", { "s.c": `${tag()}#include <h.h>\nint f(void) { return H; }\n`, "one/h.h": "#define H 1\n", "two/h.h": "#define H 2\n" });
    expect(compiled(dir, ["gcc", "-c", "-DFIRST", "-o", "s.o", "s.c"], ["s.o"], { CPATH: "one" }).kind).toBe("miss");
    expect(compiled(dir, ["gcc", "-c", "-DSECOND", "-o", "s.o", "s.c"], ["s.o"], { CPATH: "two" }).kind).toBe("miss");
  });
});
