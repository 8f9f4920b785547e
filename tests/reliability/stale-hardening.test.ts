// Regression cases for inputs the compiler reads behind the command line's back:
// precompiled headers, options passed through to a sub-tool, the assembler on PATH. Each
// case compares zccache with the bare compiler in the same cwd with the same arguments.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, hasTool, run, sleepMs, tempDir, ZCCACHE } from "../helpers.ts";
import { backdate, compareOnce, prime, primeUncacheable } from "./compare.ts";
import { diffObserved, observe, removeOutputs } from "./lib.ts";

afterAll(() => CacheEnv.stopAll());

function mustRun(argv: string[], cwd: string): void {
  const r = bare(argv, cwd);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed: ${r.err}`);
}

describe("precompiled headers", () => {
  test("gcc: an included .gch is an input: rebuilt from an edited header, the compile misses", () => {
    const c = new CacheEnv();
    c.write("h.h", "#define V 1\nstatic inline int f(void) { return V; }\n");
    c.write("a.c", '#include "h.h"\nint g(void) { return f(); }\n');
    mustRun(["gcc", "-O1", "-x", "c-header", "h.h", "-o", "h.h.gch"], c.work);
    backdate(path.join(c.work, "h.h"), path.join(c.work, "h.h.gch"));
    const argv = ["gcc", "-O1", "-c", "a.c", "-o", "a.o"];
    prime(c, argv);
    c.write("h.h", "#define V 2\nstatic inline int f(void) { return V; }\n");
    mustRun(["gcc", "-O1", "-x", "c-header", "h.h", "-o", "h.h.gch"], c.work);
    backdate(path.join(c.work, "h.h"), path.join(c.work, "h.h.gch"));
    const before = c.status();
    expect(compareOnce(c, argv, ["a.o"])).toBe("");
    expect(c.status().misses).toBe(before.misses + 1);
  });

  test("gcc: a .gch named by a computed include is found through the compiler's own trace", () => {
    const c = new CacheEnv();
    c.write("h.h", "#define V 1\nstatic inline int f(void) { return V; }\n");
    c.write("e.c", '#define HDR "h.h"\n#include HDR\nint g(void) { return f(); }\n');
    mustRun(["gcc", "-O1", "-x", "c-header", "h.h", "-o", "h.h.gch"], c.work);
    backdate(path.join(c.work, "h.h"), path.join(c.work, "h.h.gch"));
    const argv = ["gcc", "-O1", "-c", "e.c", "-o", "e.o"];
    prime(c, argv);
    c.write("h.h", "#define V 3\nstatic inline int f(void) { return V; }\n");
    mustRun(["gcc", "-O1", "-x", "c-header", "h.h", "-o", "h.h.gch"], c.work);
    backdate(path.join(c.work, "h.h"), path.join(c.work, "h.h.gch"));
    expect(compareOnce(c, argv, ["e.o"])).toBe("");
  });

  test("gcc: a .gch that appears later next to a recorded header, or in an earlier -I directory", () => {
    const c = new CacheEnv();
    c.write("inc/b/h.h", "#define V 1\nstatic inline int f(void) { return V; }\n");
    fs.mkdirSync(path.join(c.work, "inc/a"), { recursive: true });
    c.write("other.h", "#define V 7\nstatic inline int f(void) { return V; }\n");
    c.write("a.c", "#include <h.h>\nint g(void) { return f(); }\n");
    const argv = ["gcc", "-O1", "-Iinc/a", "-Iinc/b", "-c", "a.c", "-o", "a.o"];
    prime(c, argv);
    mustRun(["gcc", "-O1", "-x", "c-header", "other.h", "-o", "inc/b/h.h.gch"], c.work);
    backdate(path.join(c.work, "inc/b/h.h.gch"));
    expect(compareOnce(c, argv, ["a.o"])).toBe("");
    c.write("other.h", "#define V 8\nstatic inline int f(void) { return V; }\n");
    mustRun(["gcc", "-O1", "-x", "c-header", "other.h", "-o", "inc/a/h.h.gch"], c.work);
    backdate(path.join(c.work, "inc/a/h.h.gch"));
    expect(compareOnce(c, argv, ["a.o"])).toBe("");
  });

  test("gcc: a directory of .gch candidates: a file added to it is noticed", () => {
    const c = new CacheEnv();
    c.write("h.h", "#define V 1\nstatic inline int f(void) { return V; }\n");
    c.write("a.c", '#include "h.h"\nint g(void) { return f(); }\n');
    c.write("h.h.gch/README", "not a precompiled header\n");
    backdate(path.join(c.work, "h.h.gch/README"), path.join(c.work, "h.h.gch"));
    const argv = ["gcc", "-O1", "-c", "a.c", "-o", "a.o"];
    prime(c, argv);
    c.write("other.h", "#define V 5\nstatic inline int f(void) { return V; }\n");
    mustRun(["gcc", "-O1", "-x", "c-header", "other.h", "-o", "h.h.gch/O1"], c.work);
    backdate(path.join(c.work, "h.h.gch/O1"), path.join(c.work, "h.h.gch"));
    expect(compareOnce(c, argv, ["a.o"])).toBe("");
  });

  test("clang: -include-pch, or a .pch beside an -include, is refused; a .pch appearing later is noticed", () => {
    if (!hasTool("clang")) throw new Error("clang is required");
    const c = new CacheEnv();
    c.write("h.h", "#define V 1\n");
    c.write("p.c", "int g(void) { return V; }\n");
    const argv = ["clang", "-O1", "-include", "h.h", "-c", "p.c", "-o", "p.o"];
    prime(c, argv);
    c.write("pch.h", "#define V 9\n");
    mustRun(["clang", "-O1", "-x", "c-header", "pch.h", "-o", "h.h.pch"], c.work);
    backdate(path.join(c.work, "h.h.pch"));
    expect(compareOnce(c, argv, ["p.o"])).toBe("");
    primeUncacheable(c, argv);
    primeUncacheable(c, ["clang", "-O1", "-include-pch", "h.h.pch", "-c", "p.c", "-o", "p.o"]);
    primeUncacheable(c, ["clang", "-O1", "-Xclang", "-include-pch", "-Xclang", "h.h.pch", "-c", "p.c", "-o", "p.o"]);
  });
});

describe("options passed through to a sub-tool", () => {
  const spellings: [string, (dir: string) => string[]][] = [
    ["gcc -Wp,-I<dir>", (d) => ["gcc", `-Wp,-I${d}`]],
    ["gcc -Wp,-I,<dir>", (d) => ["gcc", `-Wp,-I,${d}`]],
    ["gcc -Xpreprocessor -I<dir>", (d) => ["gcc", "-Xpreprocessor", `-I${d}`]],
    ["gcc -Wp,-isystem,<dir>", (d) => ["gcc", `-Wp,-isystem,${d}`]],
    ["clang -Xclang -I<dir>", (d) => ["clang", "-Xclang", `-I${d}`]],
    ["clang -Xclang -I -Xclang <dir>", (d) => ["clang", "-Xclang", "-I", "-Xclang", d]],
  ];
  for (const [name, spell] of spellings) {
    test(`${name}: a header appearing later in an earlier directory shadows the recorded one`, () => {
      const c = new CacheEnv();
      c.write("inc/b/h.h", "#define HV 1\n");
      fs.mkdirSync(path.join(c.work, "inc/a"), { recursive: true });
      c.write("s.c", "#include <h.h>\nint hv(void) { return HV; }\n");
      const first = spell("inc/a");
      const argv = [...first, ...spell("inc/b").slice(1), "-O1", "-c", "s.c", "-o", "s.o"];
      prime(c, argv);
      c.write("inc/a/h.h", "#define HV 2\n");
      backdate(path.join(c.work, "inc/a/h.h"));
      expect(compareOnce(c, argv, ["s.o"])).toBe("");
    });
  }

  test("a pass-through directory after the driver's own -I directories is probed too", () => {
    const c = new CacheEnv();
    c.write("inc/b/h.h", "#define HV 1\n");
    fs.mkdirSync(path.join(c.work, "inc/a"), { recursive: true });
    c.write("s.c", "#include <h.h>\nint hv(void) { return HV; }\n");
    const argv = ["gcc", "-Iinc/a", "-Wp,-Iinc/b", "-O1", "-c", "s.c", "-o", "s.o"];
    prime(c, argv);
    c.write("inc/a/h.h", "#define HV 2\n");
    backdate(path.join(c.work, "inc/a/h.h"));
    expect(compareOnce(c, argv, ["s.o"])).toBe("");
  });

  test("harmless assembler options still cache; ones that write or read files are refused", () => {
    const c = new CacheEnv();
    c.write("w.c", "int w(void) { return 1; }\n");
    prime(c, ["gcc", "-O1", "-Wa,--noexecstack", "-Xassembler", "--compress-debug-sections", "-c", "w.c", "-o", "w.o"]);
    primeUncacheable(c, ["gcc", "-O1", "-Wa,--MD,w.dep", "-c", "w.c", "-o", "w.o"]);
    primeUncacheable(c, ["gcc", "-O1", "-Xassembler", "-adhln=w.lst", "-c", "w.c", "-o", "w.o"]);
    primeUncacheable(c, ["gcc", "-O1", "-Wa,-I,inc", "-c", "w.c", "-o", "w.o"]);
    fs.rmSync(path.join(c.work, "w.dep"), { force: true });
    fs.rmSync(path.join(c.work, "w.lst"), { force: true });
  });
});



describe("the assembler the driver finds on PATH", () => {
  /** A directory with an `as` that assembles, then adds a section the real one does not. */
  function wrapperDir(): string {
    const dir = tempDir("zc-as-");
    const as = path.join(dir, "as");
    fs.writeFileSync(
      as,
      [
        "#!/bin/sh",
        '/usr/bin/as "$@" || exit $?',
        "out=a.out",
        'while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out="$2"; fi; shift; done',
        'printf wrapped > "$out.sec"',
        'objcopy --add-section .zcwrap="$out.sec" "$out"',
        "rc=$?",
        'rm -f "$out.sec"',
        "exit $rc",
        "",
      ].join("\n"),
    );
    fs.chmodSync(as, 0o755);
    return dir;
  }

  test("gcc: an object made by another `as` on PATH is not served once it is gone", () => {
    const c = new CacheEnv();
    const dir = wrapperDir();
    c.write("m.c", "int m(void) { return 42; }\n");
    const argv = ["gcc", "-O1", "-c", "m.c", "-o", "m.o"];
    const wrapped = { PATH: `${dir}:${c.env.PATH ?? ""}` };
    prime(c, argv, wrapped);
    expect(c.read("m.o").includes(Buffer.from(".zcwrap"))).toBe(true);
    expect(compareOnce(c, argv, ["m.o"])).toBe("");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("gcc: an `as` appearing in a PATH directory before the real one changes the key at once", () => {
    const c = new CacheEnv();
    const dir = wrapperDir();
    const later = tempDir("zc-as-later-");
    c.write("m.c", "int m(void) { return 43; }\n");
    const argv = ["gcc", "-O1", "-c", "m.c", "-o", "m.o"];
    const env = { PATH: `${later}:${c.env.PATH ?? ""}` };
    prime(c, argv, env);
    fs.copyFileSync(path.join(dir, "as"), path.join(later, "as"));
    fs.chmodSync(path.join(later, "as"), 0o755);
    expect(compareOnce(c, argv, ["m.o"], env)).toBe("");
    expect(c.read("m.o").includes(Buffer.from(".zcwrap"))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(later, { recursive: true, force: true });
  });

  test("clang -fno-integrated-as (and gcc) use an `as` that appears later in COMPILER_PATH", () => {
    if (!hasTool("clang")) throw new Error("clang is required");
    const c = new CacheEnv();
    const dir = wrapperDir();
    const later = tempDir("zc-as-cpath-");
    c.write("m.c", "int m(void) { return 44; }\n");
    // clang looks in its own program paths (COMPILER_PATH among them) before PATH.
    const env = { COMPILER_PATH: later };
    const external = ["clang", "-O1", "-fno-integrated-as", "-c", "m.c", "-o", "m.o"];
    const gcc = ["gcc", "-O1", "-c", "m.c", "-o", "g.o"];
    const integrated = ["clang", "-O1", "-c", "m.c", "-o", "i.o"];
    prime(c, external, env);
    prime(c, gcc, env);
    prime(c, integrated, env);
    fs.copyFileSync(path.join(dir, "as"), path.join(later, "as"));
    fs.chmodSync(path.join(later, "as"), 0o755);
    expect(compareOnce(c, external, ["m.o"], env)).toBe("");
    expect(c.read("m.o").includes(Buffer.from(".zcwrap"))).toBe(true);
    expect(compareOnce(c, gcc, ["g.o"], env)).toBe("");
    expect(c.read("g.o").includes(Buffer.from(".zcwrap"))).toBe(true);
    // The integrated assembler ignores it: still a hit.
    const before = c.status().hits;
    expect(c.zc(integrated, { env }).code).toBe(0);
    expect(c.status().hits).toBe(before + 1);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(later, { recursive: true, force: true });
  });
});


describe("__has_include of a file that is not there yet", () => {
  for (const cc of ["gcc", "clang"]) {
    test(`${cc}: the file appearing later (beside the source, or in an -I directory) changes the answer`, () => {
      if (!hasTool(cc)) throw new Error(`${cc} is required`);
      const c = new CacheEnv();
      c.write("inc/cfg.h", '#if __has_include(<opt.h>)\n#include <opt.h>\n#endif\n');
      c.write("o.c", '#if __has_include("local.h")\n#include "local.h"\n#endif\n#include "cfg.h"\n#ifndef OPT\n#define OPT 0\n#endif\nint o(void) { return OPT; }\n');
      fs.mkdirSync(path.join(c.work, "inc2"));
      const argv = [cc, "-O1", "-Iinc", "-Iinc2", "-c", "o.c", "-o", "o.o"];
      prime(c, argv);
      c.write("local.h", "#define OPT 1\n");
      backdate(path.join(c.work, "local.h"));
      expect(compareOnce(c, argv, ["o.o"])).toBe("");
      fs.rmSync(path.join(c.work, "local.h"));
      // The entry stored without local.h is valid again, and is served.
      const hits = c.status().hits;
      expect(c.zc(argv).code).toBe(0);
      expect(c.status().hits).toBe(hits + 1);
      c.write("inc2/opt.h", "#define OPT 2\n");
      backdate(path.join(c.work, "inc2/opt.h"));
      expect(compareOnce(c, argv, ["o.o"])).toBe("");
    });
  }
});

describe("absolute paths in the tree, the same compile from another directory", () => {
  // Inputs below the cwd are recorded relative to it, so a second checkout compiling the same
  // relative spellings is served. A path spelled absolute (and under no base dir) stays in the
  // key as written: from another directory the same command reads the first tree's file, not
  // the copy beside it, so an entry checked against the copy would be stale.
  interface Case {
    readonly name: string;
    readonly files: Record<string, string>;
    readonly argv: (a: string) => string[];
    /** `top` holds both trees: a directory beside them is in neither. */
    readonly env?: (a: string, top: string) => Record<string, string>;
    /** Files in `top`, beside the trees. */
    readonly beside?: Record<string, string>;
    /** What changes in the first tree after the entry is stored. */
    readonly edit: Record<string, string>;
    /** Run with ZCCACHE_BASE_DIR covering both trees. */
    readonly based?: boolean;
  }
  const header = (v: number): string => `#define V ${v}\nstatic inline int f(void) { return V; }\n`;
  const user = (inc: string): string => `#include ${inc}\nint g(void) { return f(); }\n`;
  const CASES: readonly Case[] = [
    {
      name: "the source (its own directory searched first)",
      files: { "src/a.c": user('"h.h"'), "src/h.h": header(1) },
      argv: (a) => ["gcc", "-O1", "-c", `${a}/src/a.c`, "-o", "a.o"],
      edit: { "src/h.h": header(2) },
    },
    {
      name: "an -I directory",
      files: { "src/a.c": user("<h.h>"), "inc/h.h": header(1) },
      argv: (a) => ["gcc", "-O1", `-I${a}/inc`, "-c", "src/a.c", "-o", "a.o"],
      edit: { "inc/h.h": header(2) },
    },
    {
      name: "an -isystem directory, separate value",
      files: { "src/a.c": user("<h.h>"), "sys/h.h": header(1) },
      argv: (a) => ["gcc", "-O1", "-isystem", `${a}/sys`, "-c", "src/a.c", "-o", "a.o"],
      edit: { "sys/h.h": header(2) },
    },
    {
      name: "CPATH",
      files: { "src/a.c": user("<h.h>"), "cp/h.h": header(1) },
      argv: () => ["gcc", "-O1", "-c", "src/a.c", "-o", "a.o"],
      env: (a) => ({ CPATH: `${a}/cp` }),
      edit: { "cp/h.h": header(2) },
    },
    {
      name: "CPATH naming the tree itself first, then a directory beside it",
      files: { "src/a.c": user("<h.h>") },
      beside: { "inc/h.h": header(1) },
      argv: () => ["gcc", "-O1", "-c", "src/a.c", "-o", "a.o"],
      env: (a, top) => ({ CPATH: `${a}:${top}/inc` }),
      edit: { "h.h": header(4) },
    },
    {
      name: "-include",
      files: { "src/a.c": "int g(void) { return f(); }\n", "pre/p.h": header(1) },
      argv: (a) => ["gcc", "-O1", "-include", `${a}/pre/p.h`, "-c", "src/a.c", "-o", "a.o"],
      edit: { "pre/p.h": header(2) },
    },
    {
      name: "a --sysroot's system directories",
      files: { "src/a.c": user("<h.h>"), "sr/usr/include/h.h": header(1) },
      argv: (a) => ["gcc", "-O1", `--sysroot=${a}/sr`, "-c", "src/a.c", "-o", "a.o"],
      edit: { "sr/usr/include/h.h": header(2) },
    },
    {
      name: "under a base dir, an option the key does not rewrite (clang++ -cxx-isystem/dir)",
      files: { "src/a.cc": user("<h.h>"), "sys/h.h": header(1) },
      argv: (a) => ["clang++", "-O1", `-cxx-isystem${a}/sys`, "-c", "src/a.cc", "-o", "a.o"],
      edit: { "sys/h.h": header(2) },
      based: true,
    },
    {
      name: "a header appearing in an earlier -I directory",
      files: { "src/a.c": user("<h.h>"), "i2/h.h": header(1), "i1/keep": "" },
      argv: (a) => ["gcc", "-O1", `-I${a}/i1`, `-I${a}/i2`, "-c", "src/a.c", "-o", "a.o"],
      edit: { "i1/h.h": header(3) },
    },
  ];

  test("each way in misses from the second directory, and still hits with another -o in the first", async () => {
    const plain = new CacheEnv();
    const based = new CacheEnv({ ZCCACHE_BASE_DIR: plain.work });
    const trees = CASES.map((k, i) => {
      const c = k.based === true ? based : plain;
      const top = path.join(plain.work, `t${i}`);
      const a = path.join(top, "A");
      const b = path.join(top, "B");
      const put = (dir: string, files: Record<string, string>): void => {
        for (const [rel, text] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          fs.writeFileSync(path.join(dir, rel), text);
        }
      };
      put(a, k.files);
      put(b, k.files);
      put(top, k.beside ?? {});
      return { k, a, b, top, c };
    });
    for (const { k, a, top, c } of trees) {
      const env = k.env?.(a, top) ?? {};
      const argv = k.argv(a);
      const before = c.status().hits;
      for (const out of ["a.o", "a.o", "other.o"]) {
        const r = run([ZCCACHE, ...argv.slice(0, -1), out], { cwd: a, env: { ...c.env, ...env } });
        expect(r.code).toBe(0);
      }
      // The second compile and the one with another output name are hits.
      expect(`${k.name}: ${c.status().hits - before} hits`).toBe(`${k.name}: 2 hits`);
      for (const [rel, text] of Object.entries(k.edit)) fs.writeFileSync(path.join(a, rel), text);
    }
    // Out of the racy window: the copies and the edits are all old enough to be trusted.
    await sleepMs(2200);
    const stale: string[] = [];
    for (const { k, a, b, top, c } of trees) {
      const env = { ...c.env, ...(k.env?.(a, top) ?? {}) };
      const argv = k.argv(a);
      removeOutputs(b, ["a.o"]);
      const bareRun = observe(bare(argv, b, env), b, ["a.o"]);
      removeOutputs(b, ["a.o"]);
      const cached = observe(run([ZCCACHE, ...argv], { cwd: b, env }), b, ["a.o"]);
      const d = diffObserved(bareRun, cached);
      if (d !== "") stale.push(`${k.name}: ${d}`);
    }
    expect(stale).toEqual([]);
  });

  test("a symlinked cwd re-pointed to another tree: its name is the same, its files are not", async () => {
    // `cur` is entered through the link ($PWD=cur), as release directories and CI workspaces
    // are; the compiler records that name (-g), while the files are read in the tree it leads to.
    const c = new CacheEnv();
    const a = path.join(c.work, "A");
    const b = path.join(c.work, "B");
    for (const d of [a, b]) {
      fs.mkdirSync(path.join(d, "src"), { recursive: true });
      fs.writeFileSync(path.join(d, "src/a.c"), user('"h.h"'));
      fs.writeFileSync(path.join(d, "src/h.h"), header(1));
    }
    const cur = path.join(c.work, "cur");
    fs.symlinkSync(a, cur);
    const env = { ...c.env, PWD: cur };
    // The source by tree A's own path, with the cwd in the key (-g) and without; and by a
    // relative path, which goes where the link goes.
    const cases = [
      ["gcc", "-O1", "-g", "-c", `${a}/src/a.c`, "-o", "a.o"],
      ["gcc", "-O1", "-c", `${a}/src/a.c`, "-o", "a.o"],
      ["gcc", "-O1", "-g", "-c", "src/a.c", "-o", "a.o"],
    ];
    const before = c.status().hits;
    for (const argv of cases) {
      for (let i = 0; i < 2; i++) expect(run([ZCCACHE, ...argv], { cwd: cur, env }).code).toBe(0);
    }
    expect(c.status().hits).toBe(before + cases.length);
    // Tree A's header changes (B's copy stays as it was); the link now leads to B.
    fs.writeFileSync(path.join(a, "src/h.h"), header(5));
    fs.rmSync(cur);
    fs.symlinkSync(b, cur);
    await sleepMs(2200);
    const stale: string[] = [];
    for (const argv of cases) {
      removeOutputs(cur, ["a.o"]);
      const bareRun = observe(bare(argv, cur, env), cur, ["a.o"]);
      removeOutputs(cur, ["a.o"]);
      const cached = observe(run([ZCCACHE, ...argv], { cwd: cur, env }), cur, ["a.o"]);
      const d = diffObserved(bareRun, cached);
      if (d !== "") stale.push(`${argv.join(" ")}: ${d}`);
    }
    expect(stale).toEqual([]);
  });
});

describe("sysroots and the compiler's system directories", () => {
  for (const exists of [true, false]) {
    test(`a relative --sysroot is the cwd's: a header appearing earlier in its search list misses (that directory ${exists ? "there" : "not there yet"})`, async () => {
      // gcc searches <sysroot>/usr/local/include before <sysroot>/usr/include; the list must
      // be asked for where the compile runs, and a directory -v skips as missing is searched
      // once it exists.
      const c = new CacheEnv();
      c.write("sr/usr/include/h.h", "#define V 1\nstatic inline int f(void) { return V; }\n");
      if (exists) fs.mkdirSync(path.join(c.work, "sr/usr/local/include"), { recursive: true });
      c.write("a.c", "#include <h.h>\nint g(void) { return f(); }\n");
      backdate(path.join(c.work, "sr/usr/include/h.h"), path.join(c.work, "a.c"));
      const argv = ["gcc", "-O1", "--sysroot=sr", "-c", "a.c", "-o", "a.o"];
      prime(c, argv);
      c.write("sr/usr/local/include/h.h", "#define V 2\nstatic inline int f(void) { return V; }\n");
      await sleepMs(2200);
      expect(compareOnce(c, argv, ["a.o"])).toBe("");
    });
  }

  test("-I=dir under a base dir is below the sysroot, not the checkout: each checkout keeps its own", async () => {
    // gcc reads `-I=/b/c1/inc` as <sysroot>/b/c1/inc. Written relative like a checkout's
    // path, two checkouts' compiles would share a key while reading different headers; the
    // search order would not know the directory either. Such compiles run uncached.
    const c0 = new CacheEnv();
    const base = path.join(c0.work, "b");
    const sr = path.join(c0.work, "sr");
    const c = new CacheEnv({ ZCCACHE_BASE_DIR: base });
    const trees = ["c1", "c2"].map((name, i) => {
      const tree = path.join(base, name);
      fs.mkdirSync(tree, { recursive: true });
      fs.writeFileSync(path.join(tree, "a.c"), "#include <h.h>\nint g(void) { return f(); }\n");
      const inc = path.join(sr, tree, "inc");
      fs.mkdirSync(inc, { recursive: true });
      fs.writeFileSync(path.join(inc, "h.h"), `#define V ${i + 1}\nstatic inline int f(void) { return V; }\n`);
      return { tree, argv: ["gcc", "-O1", `--sysroot=${sr}`, `-I=${tree}/inc`, "-c", "a.c", "-o", "a.o"] };
    });
    await sleepMs(2200);
    const stale: string[] = [];
    for (const { tree, argv } of trees) {
      removeOutputs(tree, ["a.o"]);
      const bareRun = observe(bare(argv, tree, c.env), tree, ["a.o"]);
      removeOutputs(tree, ["a.o"]);
      const cached = observe(run([ZCCACHE, ...argv], { cwd: tree, env: c.env }), tree, ["a.o"]);
      const d = diffObserved(bareRun, cached);
      if (d !== "") stale.push(`${tree}: ${d}`);
    }
    expect(stale).toEqual([]);
    expect(c.status().reasons["too-hard"]).toBe(2);
  });
});

/**
 * A clang whose real executable lives in a directory of ours under `name` (a hard link, else
 * a copy): a prefixed name reads `<prefix>.cfg` from that directory (clang 16 and later also
 * `clang.cfg` and the like, from there and from the configuration directories it was built
 * with); `cc` is a clang installed under gcc's name. Away from its installation it finds no
 * builtin headers.
 */
function ownClang(name: string): { dir: string; clang: string } {
  const found = Bun.which("clang");
  if (found === null) throw new Error("clang is required");
  const dir = tempDir("zc-cfg-");
  const clang = path.join(dir, name);
  try {
    fs.linkSync(fs.realpathSync(found), clang);
  } catch {
    fs.copyFileSync(fs.realpathSync(found), clang);
    fs.chmodSync(clang, 0o755);
  }
  return { dir, clang };
}

describe("clang's configuration files", () => {

  test("one added, edited or removed beside the executable changes what is served; one we cannot account for runs uncached", async () => {
    const c = new CacheEnv();
    const { dir, clang } = ownClang("x86_64-linux-gnu-clang");
    c.write("v.c", "#ifndef V\n#define V 0\n#endif\nint v(void) { return V; }\n");
    backdate(path.join(c.work, "v.c"));
    const argv = [clang, "-O1", "-c", "v.c", "-o", "v.o"];
    const bareObject = (): Buffer => {
      mustRun([...argv.slice(0, -1), "bare.o"], c.work);
      return c.read("bare.o");
    };
    const plain = bareObject();
    prime(c, argv);
    const cfg = path.join(dir, "x86_64-linux-gnu.cfg");
    const seen: Buffer[] = [plain];
    /** Changes the files, waits out the racy window: bare clang must now build something new, and zccache serve it. */
    const step = async (change: () => void): Promise<void> => {
      change();
      await sleepMs(2200);
      const object = bareObject();
      // The setup is real: the compiler itself reads the files.
      expect(seen.some((o) => o.equals(object))).toBe(false);
      seen.push(object);
      expect(compareOnce(c, argv, ["v.o"])).toBe("");
      expect(c.read("v.o").equals(object)).toBe(true);
    };
    for (const text of ["-DV=1\n", "# edited\n-DV=2 -Wall\n"]) await step(() => fs.writeFileSync(cfg, text));
    // A file it includes (`@file`, relative to its own directory) counts as well.
    fs.mkdirSync(path.join(dir, "sub"));
    for (const inner of ["-DV=4\n", "# edited\n-DV=5\n"]) {
      await step(() => {
        fs.writeFileSync(cfg, "@sub/inner\n");
        fs.writeFileSync(path.join(dir, "sub", "inner"), inner);
      });
    }
    // `@sub/../inner` with `sub` a symlink is the link target's parent's `inner`, as the
    // kernel resolves it, not this directory's.
    fs.mkdirSync(path.join(dir, "other", "deeper"), { recursive: true });
    fs.symlinkSync(path.join(dir, "other", "deeper"), path.join(dir, "sub2"));
    fs.writeFileSync(path.join(dir, "inner"), "-DV=6\n");
    for (const text of ["-DV=7\n", "-DV=8\n"]) {
      await step(() => {
        fs.writeFileSync(cfg, "@sub2/../inner\n");
        fs.writeFileSync(path.join(dir, "other", "inner"), text);
      });
    }
    // Still cached with the files there.
    const hits = c.status().hits;
    expect(c.zc(argv).code).toBe(0);
    expect(c.status().hits).toBe(hits + 1);
    // A file naming an include directory (which moves headers we would not see) runs uncached.
    fs.writeFileSync(cfg, "-DV=3 -Iinc\n");
    await sleepMs(2200);
    const tooHard = c.status().reasons["too-hard"] ?? 0;
    expect(compareOnce(c, argv, ["v.o"])).toBe("");
    expect(c.status().reasons["too-hard"]).toBe(tooHard + 1);
    // Gone again: the first entry serves, and is right.
    fs.rmSync(cfg);
    await sleepMs(2200);
    const before = c.status().hits;
    expect(compareOnce(c, argv, ["v.o"])).toBe("");
    expect(c.read("v.o").equals(plain)).toBe(true);
    expect(c.status().hits).toBe(before + 1);
  });

  test("CLANG_NO_DEFAULT_CONFIG is part of the key", () => {
    const c = new CacheEnv();
    c.write("v.c", "int v(void) { return 1; }\n");
    const argv = ["clang", "-O1", "-c", "v.c", "-o", "v.o"];
    prime(c, argv);
    const misses = c.status().misses;
    expect(c.zc(argv, { env: { CLANG_NO_DEFAULT_CONFIG: "1" } }).code).toBe(0);
    expect(c.status().misses).toBe(misses + 1);
  });
});

test("gettext's LANGUAGE, which picks the language of gcc's messages, is part of the key", () => {
  const c = new CacheEnv();
  c.write("v.c", "int v(void) { return 1; }\n");
  const argv = ["gcc", "-O1", "-c", "v.c", "-o", "v.o"];
  prime(c, argv, { LANG: "C.UTF-8" });
  const misses = c.status().misses;
  expect(c.zc(argv, { env: { LANG: "C.UTF-8", LANGUAGE: "de" } }).code).toBe(0);
  expect(c.status().misses).toBe(misses + 1);
});

describe("gcc's specs file", () => {
  // gcc reads `specs` from its startfile prefixes, which LIBRARY_PATH and GCC_EXEC_PREFIX add
  // to: a file there changes the compile while neither the arguments nor the driver change.
  const SPECS = "*cpp:\n+ -DV=7\n\n";

  for (const variable of ["LIBRARY_PATH", "GCC_EXEC_PREFIX", "GCC_EXEC_PREFIX without a slash"] as const) {
    test(`one found through ${variable} runs the compile uncached; gone again, the entry serves`, async () => {
      const c = new CacheEnv();
      c.write("v.c", "#ifndef V\n#define V 0\n#endif\nint v(void) { return V; }\n");
      backdate(path.join(c.work, "v.c"));
      const argv = ["gcc", "-O1", "-c", "v.c", "-o", "v.o"];
      const dir = path.join(c.work, "prefix");
      fs.mkdirSync(dir);
      // gcc appends to GCC_EXEC_PREFIX as written: "…/prefix" names "…/prefixspecs".
      const noSlash = variable === "GCC_EXEC_PREFIX without a slash";
      const specsFile = noSlash ? `${dir}specs` : path.join(dir, "specs");
      if (variable !== "LIBRARY_PATH") {
        // The prefix replaces gcc's own: it must hold the compiler proper.
        const cc1 = bare(["gcc", "-print-prog-name=cc1"], c.work).out.trim();
        const machine = bare(["gcc", "-dumpmachine"], c.work).out.trim();
        const version = bare(["gcc", "-dumpversion"], c.work).out.trim();
        // (It looks for programs beside the prefix's own directory then, not below it.)
        const at = noSlash ? path.join(path.dirname(dir), machine) : path.join(dir, machine);
        fs.mkdirSync(path.join(at, version), { recursive: true });
        fs.symlinkSync(cc1, path.join(at, version, "cc1"));
      }
      const env = variable === "LIBRARY_PATH" ? { LIBRARY_PATH: dir } : { GCC_EXEC_PREFIX: noSlash ? dir : `${dir}/` };
      // Without a specs file there, compiles are cached as usual.
      prime(c, argv, env);
      const plain = c.read("v.o");
      fs.writeFileSync(specsFile, SPECS);
      await sleepMs(2200);
      const tooHard = c.status().reasons["too-hard"] ?? 0;
      expect(compareOnce(c, argv, ["v.o"], env)).toBe("");
      // The setup is real: gcc read the file.
      expect(c.read("v.o").equals(plain)).toBe(false);
      expect(c.status().reasons["too-hard"]).toBe(tooHard + 1);
      fs.rmSync(specsFile);
      await sleepMs(2200);
      const hits = c.status().hits;
      expect(compareOnce(c, argv, ["v.o"], env)).toBe("");
      expect(c.read("v.o").equals(plain)).toBe(true);
      expect(c.status().hits).toBe(hits + 1);
    });
  }

  // Where gcc looks is asked once per driver and these variables: a daemon that asked
  // without them must ask again once a build sets them.
  for (const variable of ["LIBRARY_PATH", "LPATH"] as const) {
    test(`${variable} set only after the daemon asked where gcc looks: a specs file there runs the compile uncached`, () => {
      const c = new CacheEnv();
      c.write("v.c", "#ifndef V\n#define V 0\n#endif\nint v(void) { return V; }\n");
      const dir = path.join(c.work, "lib");
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "specs"), SPECS);
      backdate(path.join(c.work, "v.c"), path.join(dir, "specs"));
      const argv = ["gcc", "-O1", "-c", "v.c", "-o", "v.o"];
      prime(c, argv);
      const plain = c.read("v.o");
      const tooHard = c.status().reasons["too-hard"] ?? 0;
      expect(compareOnce(c, argv, ["v.o"], { [variable]: dir })).toBe("");
      // The setup is real: gcc read the file.
      expect(c.read("v.o").equals(plain)).toBe(false);
      expect(c.status().reasons["too-hard"]).toBe(tooHard + 1);
    });
  }
});

describe("variables that make clang print or log each run", () => {
  // clang's driver prints its command lines or the headers it read, or appends its
  // diagnostics or statistics to a file, when one of these is set: a hit would do neither.
  // (CC_PRINT_PROC_STAT's times differ from run to run: not compared here.)
  const cases: [string, Record<string, string>, string | null][] = [
    ["CC_PRINT_HEADERS", { CC_PRINT_HEADERS: "1" }, null],
    ["CC_PRINT_OPTIONS", { CC_PRINT_OPTIONS: "1" }, null],
    ["CC_PRINT_OPTIONS with its file", { CC_PRINT_OPTIONS: "1", CC_PRINT_OPTIONS_FILE: "opts.log" }, "opts.log"],
    ["CC_LOG_DIAGNOSTICS with its file", { CC_LOG_DIAGNOSTICS: "1", CC_LOG_DIAGNOSTICS_FILE: "diag.log" }, "diag.log"],
  ];
  /** A cached compile, then each case compared with the bare compiler: uncached, same output. */
  function eachUncached(compiler: string, source: string, only: (file: string | null) => boolean): void {
    const c = new CacheEnv();
    c.write("w.c", source);
    backdate(path.join(c.work, "w.c"));
    const argv = [compiler, "-Wall", "-c", "w.c", "-o", "w.o"];
    prime(c, argv);
    for (const [name, env, file] of cases.filter(([, , f]) => only(f))) {
      if (file !== null) fs.rmSync(path.join(c.work, file), { force: true });
      const before = c.status();
      // The bare run and ours print the same (stderr is compared: a hit would print only the warning).
      expect(compareOnce(c, argv, ["w.o", ...(file === null ? [] : [file])], env)).toBe("");
      const after = c.status();
      expect({ name, hits: after.hits - before.hits, tooHard: (after.reasons["too-hard"] ?? 0) - (before.reasons["too-hard"] ?? 0) }).toEqual({ name, hits: 0, tooHard: 1 });
      // The setup is real: the bare run wrote its file.
      if (file !== null) expect(fs.existsSync(path.join(c.work, file))).toBe(true);
    }
  }

  test("each runs clang uncached, printing or writing what bare clang does, after a cached compile", () => {
    const clang = Bun.which("clang");
    if (clang === null) throw new Error("clang is required");
    eachUncached(clang, "#include <stddef.h>\nint f(void) { int unused; return (int)sizeof(size_t); }\n", () => true);
  });

  test("the same for a clang installed as `cc` (a link to its real file, as FreeBSD's and macOS's are)", () => {
    eachUncached(ownClang("cc").clang, "int f(void) { int unused; return 1; }\n", (file) => file !== null);
  });
});
