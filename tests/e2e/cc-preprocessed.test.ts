// preprocessor_fallback: after a direct-mode miss, the compile is looked up by its
// preprocessed text. Compiles that differ only in what preprocessing alone reads (-D, -I,
// -include, …) and preprocess to the same text share an object; anything that reaches the
// object some other way must still miss. Every outcome is checked against the bare compiler
// (object, depfile, stdout, stderr, exit code).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, hasTool } from "../helpers.ts";
import { backdate, compiled, preprocessedHits, tree } from "../fixtures/compared.ts";

afterAll(() => CacheEnv.stopAll());

const ON = { ZCCACHE_PREPROCESSOR_FALLBACK: "1" };
const on = new CacheEnv(ON);
const COMPILERS = ["gcc", ...(hasTool("clang") ? ["clang"] : [])];

const HEADER = "#ifndef U_H\n#define U_H\n#define UV_EXTERN __attribute__((visibility(\"default\")))\nUV_EXTERN int u(int);\n#endif\n";
/** A source of its own per test: the same text in two tests would (rightly) hit by text across them. */
const SOURCE = (n: number): string => `#include <stddef.h>\n#include "u.h"\nint u(int x) { return x * ${n} + (int)sizeof(size_t); }\n`;
let sources = 0;

describe("preprocessor_fallback: one source built for two targets", () => {
  for (const cc of COMPILERS) {
    for (const deps of [
      { name: "-MD -MT -MF", args: (t: string) => ["-MD", "-MT", `${t}/u.o`, "-MF", `${t}/u.d`], outs: (t: string) => [`${t}/u.o`, `${t}/u.d`] },
      { name: "-MMD -MP -MF", args: (t: string) => ["-MMD", "-MP", "-MF", `${t}/u.d`], outs: (t: string) => [`${t}/u.o`, `${t}/u.d`] },
      { name: "no depfile", args: () => [], outs: (t: string) => [`${t}/u.o`] },
    ]) {
      test(`${cc}, ${deps.name}: the second target hits by text, then directly; bytes as bare`, () => {
        const dir = tree(on, `two-${cc}-${deps.name.replace(/\W+/g, "")}`, { "src/u.c": SOURCE(++sources), "include/u.h": HEADER });
        fs.mkdirSync(path.join(dir, "a"));
        fs.mkdirSync(path.join(dir, "b"));
        const shared = [cc, "-c", "-O2", "-fPIC", "-Wall"];
        const first = [...shared, "-DBUILDING_SHARED=1", "-Iinclude", ...deps.args("a"), "-o", "a/u.o", "src/u.c"];
        const second = [...shared, "-I", "include", "-DSTATIC_ONLY", ...deps.args("b"), "-o", "b/u.o", "src/u.c"];
        expect(compiled(on, dir, first, deps.outs("a")).kind).toBe("miss");
        // clang's -MMD depfile cannot name every header (see cc-preprocessed.ts): no lookup by text.
        const byText = !(cc === "clang" && deps.name.startsWith("-MMD"));
        expect(compiled(on, dir, second, deps.outs("b")).kind).toBe(byText ? "text-hit" : "miss");
        // The hit by text recorded a direct entry: no preprocessing the next time.
        expect(compiled(on, dir, second, deps.outs("b")).kind).toBe("hit");
        // Its inputs are the ones preprocessing read: a changed header is noticed.
        fs.writeFileSync(path.join(dir, "include/u.h"), HEADER.replace("int u(int);", "int u(int);\nint v(void);"));
        backdate(path.join(dir, "include/u.h"));
        const changed = compiled(on, dir, second, deps.outs("b")).kind;
        // Declaring v changes the text, so no entry matches by text either.
        expect(changed).toBe("miss");
      });
    }
  }

  test("ccache's statistics split the hits the same way (--print-stats, -s)", () => {
    const dir = tree(on, "stats", { "src/u.c": SOURCE(++sources), "include/u.h": HEADER });
    fs.mkdirSync(path.join(dir, "a"));
    fs.mkdirSync(path.join(dir, "b"));
    expect(compiled(on, dir, ["gcc", "-c", "-DZC_TARGET_A=1", "-Iinclude", "-o", "a/u.o", "src/u.c"], ["a/u.o"]).kind).toBe("miss");
    expect(compiled(on, dir, ["gcc", "-c", "-DZC_TARGET_B=1", "-Iinclude", "-o", "b/u.o", "src/u.c"], ["b/u.o"]).kind).toBe("text-hit");
    const st = on.status();
    const byText = preprocessedHits(st);
    expect(byText).toBeGreaterThan(0);
    const fields = new Map(
      on
        .zc(["--print-stats"])
        .out.trim()
        .split("\n")
        .map((l) => l.split("\t") as [string, string]),
    );
    expect(Number(fields.get("preprocessed_cache_hit"))).toBe(byText);
    expect(Number(fields.get("direct_cache_hit"))).toBe(st.hits - byText);
    expect(Number(fields.get("direct_cache_miss"))).toBe(st.misses + byText);
    expect(on.zc(["status"]).out).toContain(`by preprocessed text)`);
    expect(on.zc(["-s"]).out).toMatch(new RegExp(`^ {4}Preprocessed:\\s+${byText} /\\s+${st.hits} `, "m"));
  });

  test("off by default: the second target misses", () => {
    const off = new CacheEnv();
    try {
      const dir = tree(off, "off", { "src/u.c": SOURCE(++sources), "include/u.h": HEADER });
      fs.mkdirSync(path.join(dir, "a"));
      fs.mkdirSync(path.join(dir, "b"));
      expect(compiled(off, dir, ["gcc", "-c", "-DX=1", "-Iinclude", "-o", "a/u.o", "src/u.c"], ["a/u.o"]).kind).toBe("miss");
      expect(compiled(off, dir, ["gcc", "-c", "-DY=1", "-Iinclude", "-o", "b/u.o", "src/u.c"], ["b/u.o"]).kind).toBe("miss");
      expect(preprocessedHits(off.status())).toBe(0);
    } finally {
      off.stop();
    }
  });
});

/** A PCH gcc will use for `header`, built from `stale`, with `header` itself holding `current`. */
function stalePch(dir: string, header: string, stale: string, current: string): void {
  fs.writeFileSync(path.join(dir, header), stale);
  expect(bare(["gcc", "-x", "c-header", header, "-o", `${header}.gch`], dir).code).toBe(0);
  fs.writeFileSync(path.join(dir, header), current);
  for (const f of [header, `${header}.gch`]) backdate(path.join(dir, f));
}

describe("preprocessor_fallback never serves what the text does not decide", () => {
  // Each case: a first compile that stores, then a second that differs from it in a way that
  // must not be served from the first one's object (checked against bare, byte for byte).
  const cases: {
    name: string;
    files: Record<string, string>;
    first: string[];
    second: string[];
    /** Run between the two compiles, in the case's directory. */
    between?: (dir: string) => void;
  }[] = [
    {
      name: "a -D the code uses",
      files: { "s.c": "int f(void) { return VALUE; }\n" },
      first: ["gcc", "-c", "-DVALUE=1", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-DVALUE=2", "-o", "s.o", "s.c"],
    },
    {
      name: "an -I that finds another header",
      files: { "s.c": '#include "h.h"\nint f(void) { return H; }\n', "one/h.h": "#define H 1\n", "two/h.h": "#define H 2\n" },
      first: ["gcc", "-c", "-Ione", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-Itwo", "-o", "s.o", "s.c"],
    },
    {
      name: "another optimisation level",
      files: { "s.c": "int f(int x) { int s = 0; for (int i = 0; i < x; i++) s += i; return s; }\n" },
      first: ["gcc", "-c", "-O0", "-DA", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-O2", "-DB", "-o", "s.o", "s.c"],
    },
    {
      name: "a compile with warnings (diagnostics can name macros the text no longer holds)",
      files: { "s.c": "#define UNUSED_VAR int unused = 3\nint f(void) { UNUSED_VAR; return 0; }\n" },
      first: ["gcc", "-c", "-Wall", "-DA", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-Wall", "-DB", "-o", "s.o", "s.c"],
    },
    {
      name: "-g3 (the debug info records every macro)",
      files: { "s.c": "int f(void) { return 4; }\n" },
      first: ["gcc", "-c", "-g3", "-DFIRST=1", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-g3", "-DSECOND=1", "-o", "s.o", "s.c"],
    },
    {
      name: "-Wp, (options handed to the preprocessor unread)",
      files: { "s.c": "int f(void) { return 5; }\n" },
      first: ["gcc", "-c", "-Wp,-DFIRST", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-Wp,-DSECOND", "-o", "s.o", "s.c"],
    },
    {
      name: "-gsplit-dwarf with another output name (the object names its .dwo)",
      files: { "s.c": "int f(void) { return 6; }\n" },
      first: ["gcc", "-c", "-g", "-gsplit-dwarf", "-DA", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-g", "-gsplit-dwarf", "-DB", "-o", "t.o", "s.c"],
    },
    {
      name: "a stale precompiled header gcc picks up for -include",
      files: { "s.c": "int f(void) { return V; }\n", "p.h": "#define V 1\n" },
      first: ["gcc", "-c", "-DA", "-include", "p.h", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-DB", "-include", "p.h", "-o", "s.o", "s.c"],
      between: (dir) => stalePch(dir, "p.h", "#define V 2\n", "#define V 1\n"),
    },
    {
      name: "a stale precompiled header gcc picks up for an #include",
      files: { "s.c": '#include "q.h"\nint f(void) { return W; }\n', "q.h": "#define W 1\n" },
      first: ["gcc", "-c", "-DA", "-o", "s.o", "s.c"],
      second: ["gcc", "-c", "-DB", "-o", "s.o", "s.c"],
      between: (dir) => stalePch(dir, "q.h", "#define W 2\n", "#define W 1\n"),
    },
  ];
  cases.forEach((k, i) => {
    test(k.name, () => {
      const dir = tree(on, `stale-${i}`, k.files);
      const outs = (args: string[]): string[] => {
        const o = args[args.indexOf("-o") + 1] as string;
        return args.includes("-gsplit-dwarf") ? [o, o.replace(/\.o$/, ".dwo")] : [o];
      };
      expect(compiled(on, dir, k.first, outs(k.first)).kind).toBe("miss");
      k.between?.(dir);
      const second = compiled(on, dir, k.second, outs(k.second));
      expect(second.kind).toBe("miss");
    });
  });

  test("clang: a sanitizer ignore list the text does not show (its content is in the text's key)", () => {
    if (!COMPILERS.includes("clang")) return;
    const src = "int hot(int *p) { return *p; }\nint cold(int *p) { return p[1]; }\n";
    const dir = tree(on, "clang-ignorelist", { "s.c": src, "ign.txt": "fun:hot\n" });
    const args = (d: string): string[] => ["clang", "-c", "-O1", "-fsanitize=address", "-fsanitize-ignorelist=ign.txt", d, "-o", "s.o", "s.c"];
    expect(compiled(on, dir, args("-DA"), ["s.o"]).kind).toBe("miss");
    fs.writeFileSync(path.join(dir, "ign.txt"), "fun:cold\n");
    backdate(path.join(dir, "ign.txt"));
    expect(compiled(on, dir, args("-DB"), ["s.o"]).kind).toBe("miss");
    // Same list again, a third define: now the text and the list match the second compile.
    expect(compiled(on, dir, args("-DC"), ["s.o"]).kind).toBe("text-hit");
  });

  test("clang: an implicit PCH next to an -include'd header turns the lookup by text off", () => {
    if (!COMPILERS.includes("clang")) return;
    const dir = tree(on, "clang-pch", { "s.c": "int f(void) { return V; }\n", "p.h": "#define V 1\n" });
    expect(compiled(on, dir, ["clang", "-c", "-DA", "-include", "p.h", "-o", "s.o", "s.c"], ["s.o"]).kind).toBe("miss");
    fs.writeFileSync(path.join(dir, "p.h"), "#define V 2\n");
    expect(bare(["clang", "-x", "c-header", "p.h", "-o", "p.h.pch"], dir).code).toBe(0);
    fs.writeFileSync(path.join(dir, "p.h"), "#define V 1\n");
    for (const f of ["p.h", "p.h.pch"]) backdate(path.join(dir, f));
    // clang refuses a PCH whose header changed since; whatever it does, zccache does the same.
    const second = compiled(on, dir, ["clang", "-c", "-DB", "-include", "p.h", "-o", "s.o", "s.c"], ["s.o"]);
    expect(second.kind).not.toBe("text-hit");
    expect(second.kind).not.toBe("hit");
  });
});
