// Relocatable entries (issue 12; /tmp spec items 1-5), with the real gcc, clang, g++,
// clang++, ar and llvm-ar. Every case checks the outcome the counters report AND every
// output byte for byte: against a bare compile at the same place, or, where zccache itself
// changes the output (ZCCACHE_PATH_REMAP=1), against a zccache miss there with a fresh cache.
//  1. The output name is not in the key unless the output embeds it.
//  2. Two checkouts under one ZCCACHE_BASE_DIR (names of different lengths: gcc wraps
//     depfile lines by column) share entries, in CMake, relative and mixed spellings.
//  3. -g: no sharing without remapping (or identical); with ZCCACHE_PATH_REMAP=1 it hits.
//  4. The relocation trap: a header edited only in one checkout; a relative -I that
//     resolves to other content.
//  5. __FILE__, __BASE_FILE__, __builtin_FILE(), assert(): no checkout's path in another's object.
//  And a bad ZCCACHE_BASE_DIR: one line, the compile runs uncached.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, requireTool, tempDir } from "../helpers.ts";
import { expectSameBytes } from "../assertions.ts";
import {
  backdateTree,
  bareRun,
  C_SOURCES,
  CXX_SOURCES,
  expectOutcome,
  expectSameSnapshot,
  type Job,
  job,
  sameOutputs,
  type Snapshot,
  type Style,
  type Tree,
  twoCheckouts as sharedTwoCheckouts,
  writeFile,
  writeProject,
  zcRun,
} from "../fixtures/relocation/reloc.ts";

afterAll(() => CacheEnv.stopAll());

for (const tool of ["gcc", "g++", "clang", "clang++", "ar", "llvm-ar"]) {
  if (!requireTool(tool, "the relocation suite")) throw new Error(`${tool} is required`);
}

/** Two checkouts of the project under one base dir. */
function twoCheckouts(): Tree {
  return sharedTwoCheckouts("zc-reloc-", "c1", writeProject);
}

interface Built {
  readonly bare: Snapshot;
  readonly zc: Snapshot & { outcome: string };
}

/** Builds `src` bare and then through zccache in one checkout; the two must agree. */
function buildOne(c: CacheEnv, j: Job, what: string): Built {
  const b = bareRun(j);
  const z = zcRun(c, j);
  expectSameSnapshot(z, b, what);
  return { bare: b, zc: z };
}

// ---------------------------------------------------------------------------------------
// 1. Output names

/** Writes `name` with content unique to the case into `dir`, backdated. */
function source(dir: string, name: string, body: string): void {
  const p = writeFile(dir, name, body);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(p, old, old);
}

interface Renamed {
  readonly name: string;
  /** The command writing output set `n` (1, 2, 3…). */
  readonly argv: (n: number) => string[];
  readonly outputs: (n: number) => string[];
  /** The output name reaches the content: the second name must miss. */
  readonly embeds: boolean;
}

const RENAMED: readonly Renamed[] = [
  { name: "-c -o", argv: (n) => ["-O1", "-c", "a.c", "-o", `x${n}.o`], outputs: (n) => [`x${n}.o`], embeds: false },
  { name: "-o into another directory", argv: (n) => ["-O1", "-c", "a.c", "-o", `d${n}/x.o`], outputs: (n) => [`d${n}/x.o`], embeds: false },
  { name: "-g", argv: (n) => ["-O1", "-g", "-c", "a.c", "-o", `x${n}.o`], outputs: (n) => [`x${n}.o`], embeds: false },
  {
    name: "-MD -MF without -MT (the depfile target is rewritten)",
    argv: (n) => ["-O1", "-MD", "-MF", `x${n}.d`, "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`, `x${n}.d`],
    embeds: false,
  },
  {
    name: "-MMD (depfile named after the object)",
    argv: (n) => ["-O1", "-MMD", "-c", "a.c", "-o", `obj${n}/x.o`],
    outputs: (n) => [`obj${n}/x.o`, `obj${n}/x.d`],
    embeds: false,
  },
  {
    name: "-MD -MT fixed",
    argv: (n) => ["-O1", "-MD", "-MT", "the-target", "-MF", `x${n}.d`, "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`, `x${n}.d`],
    embeds: false,
  },
  {
    name: "-MMD -MQ fixed",
    argv: (n) => ["-O1", "-MMD", "-MQ", "$(OBJ)", "-MF", `x${n}.d`, "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`, `x${n}.d`],
    embeds: false,
  },
  {
    name: "-gsplit-dwarf (the .dwo name is in the object)",
    argv: (n) => ["-O1", "-g", "-gsplit-dwarf", "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`, `x${n}.dwo`],
    embeds: true,
  },
  {
    name: "--coverage (the .gcda path is in the object)",
    // gcc stamps coverage objects with a random tick unless given a seed.
    argv: (n) => ["-O1", "--coverage", "-frandom-seed=a.c", "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`, `x${n}.gcno`],
    embeds: true,
  },
  {
    name: "-fprofile-arcs",
    argv: (n) => ["-O1", "-fprofile-arcs", "-frandom-seed=a.c", "-c", "a.c", "-o", `x${n}.o`],
    outputs: (n) => [`x${n}.o`],
    embeds: true,
  },
];

/** Compiles output set 1 (a miss), then sets 2 and 3 and checks each against bare. */
function renamedCase(c: CacheEnv, dir: string, cc: string, k: Renamed): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of [1, 2, 3]) {
    fs.mkdirSync(path.join(dir, `d${n}`), { recursive: true });
    fs.mkdirSync(path.join(dir, `obj${n}`), { recursive: true });
  }
  const j = (n: number): Job => ({ cwd: dir, argv: [cc, ...k.argv(n)], outputs: k.outputs(n) });
  const first = buildOne(c, j(1), `${cc} ${k.name} #1`);
  expectOutcome(first.zc, "miss", `${cc} ${k.name} #1`);
  for (const n of [2, 3]) {
    const what = `${cc} ${k.name} #${n}`;
    const b = bareRun(j(n));
    const z = zcRun(c, j(n));
    expectSameSnapshot(z, b, what);
    expectOutcome(z, k.embeds ? "miss" : "hit", what);
  }
}

for (const cc of ["gcc", "clang"]) {
  describe(`1. output names (${cc})`, () => {
    const c = new CacheEnv();
    RENAMED.forEach((k, i) => {
      test(k.name, () => {
        const dir = path.join(c.work, `case${i}`);
        source(dir, "a.c", `/* ${k.name} */\nstatic int helper${i}(int v) { return v * ${i + 3}; }\nint a_fn(int x) { return helper${i}(x) + ${i}; }\n`);
        renamedCase(c, dir, cc, k);
      });
    });
  });
}

test("1. output names (g++): -o and -MD -MF without -MT", () => {
  const c = new CacheEnv();
  for (const [i, k] of [RENAMED[0], RENAMED[3]].entries()) {
    if (k === undefined) throw new Error("case list changed");
    const dir = path.join(c.work, `cxx${i}`);
    const cpp: Renamed = { ...k, argv: (n) => k.argv(n).map((a) => (a === "a.c" ? "a.cpp" : a)) };
    source(dir, "a.cpp", `#include <string>\nstd::string a_fn${i}(int x) { return std::to_string(x + ${i}); }\n`);
    renamedCase(c, dir, "g++", cpp);
  }
});

describe("1. archives and links under another name", () => {
  const c = new CacheEnv();
  const dir = path.join(c.work, "members");
  for (const [n, v] of [["x", 1], ["y", 2]] as const) source(dir, `${n}.c`, `int ${n}_value(void) { return ${v}; }\n`);
  source(dir, "main.c", "int x_value(void);\nint y_value(void);\nint main(void) { return x_value() + y_value(); }\n");
  for (const n of ["x", "y", "main"]) bareRun({ cwd: dir, argv: ["gcc", "-O1", "-fPIC", "-c", `${n}.c`, "-o", `${n}.o`], outputs: [`${n}.o`] });
  const old = new Date(Date.now() - 60_000);
  for (const n of ["x", "y", "main"]) fs.utimesSync(path.join(dir, `${n}.o`), old, old);

  /**
   * Output set 1 misses; set 2: a hit when the bare outputs of both names are identical
   * (the name does not reach the content), else a miss; identical to bare either way.
   */
  function twoNames(argv: (n: number) => string[], outputs: (n: number) => string[], what: string): void {
    const j = (n: number): Job => ({ cwd: dir, argv: argv(n), outputs: outputs(n) });
    const first = buildOne(c, j(1), `${what} #1`);
    expectOutcome(first.zc, "miss", `${what} #1`);
    const b2 = bareRun(j(2));
    const z2 = zcRun(c, j(2));
    expectSameSnapshot(z2, b2, `${what} #2`);
    const sameContent = [...first.bare.files.values()].every((x, i) => {
      const y = [...b2.files.values()][i] ?? null;
      return x !== null && y !== null && x.equals(y);
    });
    expectOutcome(z2, sameContent ? "hit" : "miss", `${what} #2`);
  }

  for (const [tool, key] of [["ar", "rcs"], ["ar", "rcsD"], ["llvm-ar", "rcs"]] as const) {
    test(`${tool} ${key} liba.a then libb.a: a hit, identical to bare`, () => {
      const lib = (n: number): string => `lib${tool}-${key}-${n}.a`;
      twoNames((n) => [tool, key, lib(n), "x.o", "y.o"], (n) => [lib(n)], `${tool} ${key}`);
    });
  }

  for (const cc of ["gcc", "clang"]) {
    test(`${cc} x.o y.o main.o -o prog1 / prog2: a hit only where the name does not reach the content`, () => {
      twoNames((n) => [cc, "main.o", "x.o", "y.o", "-o", `${cc}-prog${n}`], (n) => [`${cc}-prog${n}`], `${cc} link`);
    });
    test(`${cc} -shared -o liba.so / libb.so`, () => {
      twoNames((n) => [cc, "-shared", "x.o", "y.o", "-o", `${cc}-lib${n}.so`], (n) => [`${cc}-lib${n}.so`], `${cc} -shared`);
    });
    test(`${cc} -shared -Wl,-soname naming the output: the name is in the content, a miss`, () => {
      twoNames(
        (n) => [cc, "-shared", `-Wl,-soname,${cc}-son${n}.so`, "x.o", "y.o", "-o", `${cc}-son${n}.so`],
        (n) => [`${cc}-son${n}.so`],
        `${cc} -soname`,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------
// 2-3. Two checkouts under one base dir

/** Builds every source of a checkout bare and through zccache; returns what was built, by source. */
function buildCheckout(c: CacheEnv, root: string, style: Style, ccs: readonly [string, readonly string[]][], flags: readonly string[] = []): Map<string, Built> {
  const out = new Map<string, Built>();
  for (const [cc, sources] of ccs) {
    for (const src of sources) {
      const j = job(root, style, cc, src, flags);
      out.set(`${cc} ${src}`, buildOne(c, j, `${path.basename(root)}: ${j.argv.join(" ")}`));
    }
  }
  return out;
}

function outcomes(built: Map<string, Built>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, b] of built) o[k] = b.zc.outcome.startsWith("miss:") ? "miss" : b.zc.outcome;
  return o;
}

function all(built: Map<string, Built>, what: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const k of built.keys()) o[k] = what;
  return o;
}

const STYLES: readonly Style[] = ["cmake", "relative", "mixed"];

for (const cc of ["gcc", "clang"]) {
  for (const style of STYLES) {
    test(`2. ${cc}, ${style} spelling: the second checkout is all hits, objects and depfiles identical to bare there`, () => {
      const t = twoCheckouts();
      const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
      const ccs: [string, readonly string[]][] = [[cc, C_SOURCES]];
      const one = buildCheckout(c, t.one, style, ccs);
      expect(outcomes(one)).toEqual(all(one, "miss"));
      const two = buildCheckout(c, t.two, style, ccs);
      expect(outcomes(two)).toEqual(all(two, "hit"));
      // And back in the first checkout: hits, with its own paths in the depfiles.
      const again = buildCheckout(c, t.one, style, ccs);
      expect(outcomes(again)).toEqual(all(again, "hit"));
    });
  }
}

test("2. g++ and clang++ in CMake spelling: the second checkout hits, identical to bare", () => {
  const t = twoCheckouts();
  const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
  const ccs: [string, readonly string[]][] = [
    ["g++", CXX_SOURCES],
    ["clang++", CXX_SOURCES],
  ];
  const one = buildCheckout(c, t.one, "cmake", ccs);
  expect(outcomes(one)).toEqual(all(one, "miss"));
  const two = buildCheckout(c, t.two, "cmake", ccs);
  expect(outcomes(two)).toEqual(all(two, "hit"));
});

test("2. base_dir from zccache.conf works like ZCCACHE_BASE_DIR, and several directories are allowed", () => {
  const t = twoCheckouts();
  const c = new CacheEnv();
  fs.mkdirSync(c.root, { recursive: true });
  fs.writeFileSync(path.join(c.root, "zccache.conf"), `base_dir = /nonexistent/elsewhere:${t.top}\n`);
  const ccs: [string, readonly string[]][] = [["gcc", C_SOURCES]];
  const one = buildCheckout(c, t.one, "cmake", ccs);
  expect(outcomes(one)).toEqual(all(one, "miss"));
  const two = buildCheckout(c, t.two, "cmake", ccs);
  expect(outcomes(two)).toEqual(all(two, "hit"));
});

test("2. without a base dir an absolute-path build in another checkout is not served the first one's depfiles", () => {
  const t = twoCheckouts();
  const c = new CacheEnv();
  const ccs: [string, readonly string[]][] = [["gcc", C_SOURCES]];
  buildCheckout(c, t.one, "cmake", ccs);
  // Whatever the outcome, every output equals bare in the second checkout (buildOne).
  buildCheckout(c, t.two, "cmake", ccs);
});

// Kept to two combinations (the suite's time): the spelling matters little once -g records the cwd.
for (const cc of ["gcc", "clang"]) {
  for (const style of cc === "gcc" ? (["cmake"] as const) : (["relative"] as const)) {
    test(`3. ${cc} -g, ${style}, no remap: the second checkout misses unless its objects are identical`, () => {
      const t = twoCheckouts();
      const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
      const ccs: [string, readonly string[]][] = [[cc, C_SOURCES]];
      const one = buildCheckout(c, t.one, style, ccs, ["-g"]);
      const two = buildCheckout(c, t.two, style, ccs, ["-g"]);
      for (const [k, b] of two) {
        const first = one.get(k);
        if (first === undefined) throw new Error(k);
        const identical = sameOutputs(first.bare, b.bare, (n) => n.endsWith(".o"));
        // -g records the checkout's directory (DW_AT_comp_dir, DW_AT_name): never the same here.
        expect({ k, identical }).toEqual({ k, identical: false });
        expectOutcome(b.zc, "miss", `${k} in the second checkout`);
      }
    });
  }

  test(`3. ${cc} -g with ZCCACHE_PATH_REMAP=1: the second checkout hits, identical to a fresh-cache miss there`, () => {
    const t = twoCheckouts();
    const remap = { ZCCACHE_BASE_DIR: t.top, ZCCACHE_PATH_REMAP: "1" };
    const c = new CacheEnv(remap);
    const fresh = new CacheEnv(remap);
    for (const style of STYLES) {
      const jobs = (root: string): Job[] => C_SOURCES.map((s) => job(root, style, cc, s, ["-g"]));
      for (const j of jobs(t.one)) expectOutcome(zcRun(c, j), "miss", `${style} ${j.argv.join(" ")} (first checkout)`);
      const hits = jobs(t.two).map((j) => {
        const z = zcRun(c, j);
        expectOutcome(z, "hit", `${style} ${j.argv.join(" ")} (second checkout)`);
        return z;
      });
      jobs(t.two).forEach((j, i) => {
        const what = `${style} ${j.argv.join(" ")}`;
        const miss = zcRun(fresh, j);
        expectOutcome(miss, "miss", `${what} (fresh cache)`);
        const hit = hits[i];
        if (hit === undefined) throw new Error(what);
        expectSameSnapshot(hit, miss, `${what}: hit vs a fresh miss`);
        // The remapped debug info names neither checkout's absolute directory.
        for (const [name, bytes] of hit.files) {
          if (!name.endsWith(".o") || bytes === null) continue;
          expect({ what, hasTop: bytes.includes(Buffer.from(t.top)) }).toEqual({ what, hasTop: false });
        }
      });
    }
  });
}

test("3. ZCCACHE_PATH_REMAP=1 without a base dir maps the cwd alone: no absolute cwd in -g objects, hits equal a fresh miss", () => {
  const t = twoCheckouts();
  const c = new CacheEnv({ ZCCACHE_PATH_REMAP: "1" });
  const fresh = new CacheEnv({ ZCCACHE_PATH_REMAP: "1" });
  for (const cc of ["gcc", "clang"]) {
    for (const src of C_SOURCES) {
      const j = job(t.one, "relative", cc, src, ["-g"]);
      const what = `${cc} ${src}`;
      expectOutcome(zcRun(c, j), "miss", `${what} #1`);
      const hit = zcRun(c, j);
      expectOutcome(hit, "hit", `${what} #2`);
      const miss = zcRun(fresh, j);
      expectSameSnapshot(hit, miss, `${what}: hit vs a fresh-cache miss`);
      const obj = hit.files.get(j.outputs[0] ?? "") ?? null;
      expect({ what, hasCwd: obj?.includes(Buffer.from(j.cwd)) }).toEqual({ what, hasCwd: false });
    }
  }
});

// ---------------------------------------------------------------------------------------
// 4. The relocation trap

for (const cc of ["gcc", "clang"]) {
  // Every spelling with gcc; clang (same key code, other outputs) in the CMake one.
  for (const style of cc === "gcc" ? STYLES : (["cmake"] as const)) {
    test(`4. ${cc}, ${style}: a header edited only in the second checkout misses there; the first still hits`, () => {
      const t = twoCheckouts();
      const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
      const ccs: [string, readonly string[]][] = [[cc, C_SOURCES]];
      buildCheckout(c, t.one, style, ccs);
      // The trap is only armed once the second checkout is served the first one's entries.
      const shared = buildCheckout(c, t.two, style, ccs);
      expect(outcomes(shared)).toEqual(all(shared, "hit"));
      // Same size, same mtime as the first checkout's copy: only the content differs.
      const local = path.join(t.two, "src/local.h");
      const st = fs.statSync(local);
      fs.writeFileSync(local, "#define LOCAL_K 77\n");
      fs.utimesSync(local, st.atime, st.mtime);
      const two = buildCheckout(c, t.two, style, ccs);
      expect(outcomes(two)).toEqual({ [`${cc} src/a.c`]: "miss", [`${cc} lib/b.c`]: "hit", [`${cc} lib/deep/c.c`]: "miss" });
      const one = buildCheckout(c, t.one, style, ccs);
      expect(outcomes(one)).toEqual(all(one, "hit"));
    });
  }

  // One compiler each for the two -I cases below.
  if (cc === "gcc") test(`4. ${cc}: a relative -I that resolves to a directory with other content in the second checkout misses`, () => {
    const t = twoCheckouts();
    const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
    const ccs: [string, readonly string[]][] = [[cc, C_SOURCES]];
    buildCheckout(c, t.one, "relative", ccs);
    // The second checkout's include/ is a symlink to another tree whose cfg.h differs
    // (same size, same time).
    const alt = path.join(t.top, "alt-include");
    fs.cpSync(path.join(t.two, "include"), alt, { recursive: true, preserveTimestamps: true });
    const cfg = path.join(alt, "proj/cfg.h");
    const st = fs.statSync(cfg);
    fs.writeFileSync(cfg, "#define CFG_BIAS 9\n");
    fs.utimesSync(cfg, st.atime, st.mtime);
    fs.rmSync(path.join(t.two, "include"), { recursive: true });
    fs.symlinkSync("../alt-include", path.join(t.two, "include"));
    const two = buildCheckout(c, t.two, "relative", ccs);
    expect(outcomes(two)).toEqual(all(two, "miss"));
    const one = buildCheckout(c, t.one, "relative", ccs);
    expect(outcomes(one)).toEqual(all(one, "hit"));
  });

  if (cc === "clang") test(`4. ${cc}: an -I outside the checkout (../../shared) resolves per checkout`, () => {
    const top = tempDir("zc-reloc-");
    // c1/build -> top/shared ; nest/checkout-two/build -> top/nest/shared: other content.
    const one = path.join(top, "c1");
    const two = path.join(top, "nest", "checkout-two");
    writeProject(one);
    writeProject(two);
    writeFile(top, "shared/s.h", "#define SHARED_V 1\n");
    writeFile(top, "nest/shared/s.h", "#define SHARED_V 2\n");
    for (const r of [one, two]) writeFile(r, "src/s.c", "#include <s.h>\nint s_fn(void) { return SHARED_V; }\n");
    const when = new Date(Date.now() - 60_000);
    backdateTree(top, when);
    const c = new CacheEnv({ ZCCACHE_BASE_DIR: top });
    const j = (root: string): Job => ({ ...job(root, "relative", cc, "src/s.c", ["-I../../shared"]) });
    expectOutcome(buildOne(c, j(one), "first checkout").zc, "miss", "first checkout");
    expectOutcome(buildOne(c, j(two), "second checkout").zc, "miss", "second checkout");
    expectOutcome(buildOne(c, j(one), "first checkout again").zc, "hit", "first checkout again");
  });
}

// ---------------------------------------------------------------------------------------
// 5. Paths the preprocessor bakes into the object

for (const cc of ["gcc", "clang"]) {
  describe(`5. __FILE__ and friends (${cc})`, () => {
    /**
     * Builds `src` in both checkouts; the second must equal bare there (buildOne) and hold
     * nothing of the first checkout's path; returns the second's outcome and whether the two
     * bare objects were identical.
     */
    function pair(style: Style, src: string, flags: readonly string[] = []): { outcome: string; identical: boolean } {
      const t = twoCheckouts();
      const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
      const one = buildOne(c, job(t.one, style, cc, src, flags), `${src} in the first checkout`);
      expectOutcome(one.zc, "miss", `${src} in the first checkout`);
      const two = buildOne(c, job(t.two, style, cc, src, flags), `${src} in the second checkout`);
      for (const [name, bytes] of two.zc.files) {
        if (bytes === null) continue;
        expect({ name, hasFirst: bytes.includes(Buffer.from(`${t.one}/`)) }).toEqual({ name, hasFirst: false });
      }
      const identical = sameOutputs(one.bare, two.bare, (n) => n.endsWith(".o"));
      const outcome = two.zc.outcome.startsWith("miss:") ? "miss" : two.zc.outcome;
      return { outcome, identical };
    }

    test("absolute source and -I: __FILE__/__BASE_FILE__/__builtin_FILE() of both, a miss", () => {
      const p = pair("cmake", "src/file.c");
      expect(p).toMatchObject({ identical: false, outcome: "miss" });
    });

    test("relative source, absolute -I: the header's __FILE__ is absolute, a miss", () => {
      const p = pair("mixed", "src/hdr.c");
      expect(p).toMatchObject({ identical: false, outcome: "miss" });
    });

    test("relative source and -I: the paths are the same text in both checkouts, a hit", () => {
      const p = pair("relative", "src/file.c");
      expect(p).toMatchObject({ identical: true, outcome: "hit" });
    });

    test("assert() with an absolute source: a miss", () => {
      const p = pair("cmake", "src/asrt.c");
      expect(p).toMatchObject({ identical: false, outcome: "miss" });
    });

    test("assert() with -DNDEBUG and an absolute source: no path in the object, a hit", () => {
      const p = pair("cmake", "src/asrt.c", ["-DNDEBUG"]);
      expect(p).toMatchObject({ identical: true, outcome: "hit" });
    });
  });
}

test("5. the __FILE__ check preprocesses a miss only when an input is spelled with the tree's path under a base dir, not for an absolute -o", () => {
  const c = new CacheEnv();
  // A gcc (by name, so the daemon takes it as one) that notes every run it is asked for.
  const log = path.join(c.work, "runs.txt");
  const gcc = c.write("bin/gcc", `#!/bin/sh\necho "$*" >> '${log}'\nexec /usr/bin/gcc "$@"\n`);
  fs.chmodSync(gcc, 0o755);
  const runsOf = (src: string): string[] => fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes(src));
  const checks = (src: string): string[] => runsOf(src).filter((l) => l.endsWith(" -E -P -o -"));
  writeFile(c.work, "out.c", "int out(void) { return __LINE__; }\n");
  writeFile(c.work, "abs.c", "int abs_(void) { return __LINE__; }\n");
  backdateTree(c.work);

  // Only the output is named by its absolute path: no input is, so no name of this tree
  // can reach the code and nothing is preprocessed, beside the compile or after it.
  const out = zcRun(c, { argv: [gcc, "-c", "out.c", "-o", path.join(c.work, "out.o")], cwd: c.work, outputs: ["out.o"] });
  expectOutcome(out, "miss", "out.c");
  expectSameSnapshot(out, bareRun({ argv: ["gcc", "-c", "out.c", "-o", path.join(c.work, "out.o")], cwd: c.work, outputs: ["out.o"] }), "out.c");
  expect({ runs: runsOf("out.c").length, checks: checks("out.c") }).toEqual({ runs: 1, checks: [] });

  // The source named by its absolute path (CMake's spelling) and no base dir: the key holds
  // that path as written, so the entry serves this directory alone, where __FILE__ is the
  // same again. Nothing to look for; another -o here is a hit.
  const abs = zcRun(c, { argv: [gcc, "-c", path.join(c.work, "abs.c"), "-o", "abs.o"], cwd: c.work, outputs: ["abs.o"] });
  expectOutcome(abs, "miss", "abs.c");
  expect(checks("abs.c")).toEqual([]);
  expectOutcome(zcRun(c, { argv: [gcc, "-c", path.join(c.work, "abs.c"), "-o", "abs2.o"], cwd: c.work, outputs: ["abs2.o"] }), "hit", "abs.c, -o abs2.o");

  // Under a base dir the key holds it relative to the cwd, so another tree may be served:
  // __FILE__ would name this tree, and the preprocessed text is looked at, once.
  const based = new CacheEnv({ ZCCACHE_BASE_DIR: c.work });
  writeFile(c.work, "based.c", "int based(void) { return __LINE__; }\n");
  backdateTree(c.work);
  const b = zcRun(based, { argv: [gcc, "-c", path.join(c.work, "based.c"), "-o", "based.o"], cwd: c.work, outputs: ["based.o"] });
  expectOutcome(b, "miss", "based.c");
  expect(checks("based.c").length).toBe(1);
});

// ---------------------------------------------------------------------------------------
// Diagnostics naming the checkout

for (const cc of ["gcc", "clang"]) {
  test(`${cc}: warnings name the second checkout's files on its hits, as a bare compile there does`, () => {
    const t = twoCheckouts();
    for (const root of [t.one, t.two]) {
      // A warning in a header and one in the source: both are printed with absolute paths.
      writeFile(root, "include/proj/warn.h", "static int warn_unused_in_header;\n");
      writeFile(root, "src/warn.c", '#include "proj/warn.h"\nint warn_fn(int x) { int unused_local; return x; }\n');
    }
    backdateTree(t.top);
    const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
    const flags = ["-Wall", "-Wunused-variable"];
    const one = job(t.one, "cmake", cc, "src/warn.c", flags);
    const two = job(t.two, "cmake", cc, "src/warn.c", flags);
    const bareTwo = bareRun(two);
    expect(bareTwo.r.err).toContain(`${t.two}/src/warn.c`);
    expectOutcome(zcRun(c, one), "miss", "first checkout");
    const hit = zcRun(c, two);
    expectOutcome(hit, "hit", "second checkout");
    expectSameSnapshot(hit, bareTwo, "second checkout");
  });
}

// ---------------------------------------------------------------------------------------
// A bad base dir

describe("a bad ZCCACHE_BASE_DIR", () => {
  // A relative element, alone or among absolute ones, and an empty element.
  const BAD = ["rel/dir", "/abs/ok:rel", "/abs/ok::/abs/other"];

  function expectOneLine(err: string, value: string): void {
    const lines = err.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("ZCCACHE_BASE_DIR");
    expect(lines[0]).toContain(value);
  }

  for (const value of BAD) {
    test(`'${value}': one line, the compile succeeds uncached (no daemon yet, and with one running)`, () => {
      const c = new CacheEnv();
      const dir = path.join(c.work, "bad");
      source(dir, "a.c", "int bad_base(int x) { return x + 5; }\n");
      const j: Job = { cwd: dir, argv: ["gcc", "-O1", "-c", "a.c", "-o", "a.o"], outputs: ["a.o"], env: { ZCCACHE_BASE_DIR: value } };
      const b = bareRun(j);
      for (let i = 0; i < 2; i++) {
        fs.rmSync(path.join(dir, "a.o"), { force: true });
        const r = c.zc(j.argv, { cwd: dir, env: j.env });
        expect(r.code).toBe(0);
        expectOneLine(r.err, value);
        expectSameBytes(fs.readFileSync(path.join(dir, "a.o")), b.files.get("a.o") ?? null, "object");
      }
      // With a daemon running (started with good settings): still one line, nothing cached.
      expect(c.zc(["start"]).code).toBe(0);
      const st0 = c.status();
      for (let i = 0; i < 2; i++) {
        const z = zcRun(c, j);
        expect(z.r.code).toBe(0);
        expectOneLine(z.r.err, value);
        expectSameBytes(z.files.get("a.o") ?? null, b.files.get("a.o") ?? null, "object");
        expect({ hits: z.d.hits, misses: z.d.misses }).toEqual({ hits: 0, misses: 0 });
      }
      expect(c.status().entries).toBe(st0.entries);
    });
  }

  test("base_dir = relative in zccache.conf: one line naming the file, the compile succeeds", () => {
    const c = new CacheEnv();
    fs.mkdirSync(c.root, { recursive: true });
    const conf = path.join(c.root, "zccache.conf");
    fs.writeFileSync(conf, "base_dir = some/where\n");
    const dir = path.join(c.work, "conf");
    source(dir, "a.c", "int conf_base(int x) { return x + 6; }\n");
    const j: Job = { cwd: dir, argv: ["gcc", "-O1", "-c", "a.c", "-o", "a.o"], outputs: ["a.o"] };
    const b = bareRun(j);
    fs.rmSync(path.join(dir, "a.o"));
    const r = c.zc(j.argv, { cwd: dir });
    expect(r.code).toBe(0);
    // A file problem names the file, its line and the key, as every config-file error does.
    const lines = r.err.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(`${conf}:1: base_dir`);
    expect(lines[0]).toContain("some/where");
    expectSameBytes(fs.readFileSync(path.join(dir, "a.o")), b.files.get("a.o") ?? null, "object");
  });
});
