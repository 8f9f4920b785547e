// Links through the cache: gcc, g++ and clang as link drivers, ld and ld.lld called directly.
// A hit writes the executable (or shared library) a bare link writes, byte for byte and
// runnable; a changed object, library found through -L/-l, new library shadowing it, linker
// script or flag misses; side files (map files) and what a deploy hook drops are restored.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type RunResult, run, type Status } from "../helpers.ts";
import { expectOk, expectSameBytes, readOrNull, sameAsBare, waitUntil } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----

interface Delta {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  reasons: Record<string, number>;
  link: Record<string, number>;
}

function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

function diff(a: Status, b: Status): Delta {
  return {
    hits: b.hits - a.hits,
    misses: b.misses - a.misses,
    uncacheable: b.uncacheable - a.uncacheable,
    errors: b.errors - a.errors,
    reasons: diffCounts(a.reasons, b.reasons),
    link: diffCounts(a.languages.link ?? {}, b.languages.link ?? {}),
  };
}

function zcMeasured(args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd, env: extraEnv });
  return { r, d: diff(before, env.status()) };
}

type Counts = Omit<Delta, "link">;

function counts(d: Delta): Counts {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors, reasons: d.reasons };
}

const MISS: Counts = { hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } };
const CHANGED: Counts = { hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "inputs-changed": 1 } };
const HIT: Counts = { hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} };
const uncacheable = (reason: string): Counts => ({ hits: 0, misses: 0, uncacheable: 1, errors: 0, reasons: { [reason]: 1 } });

function put(dir: string, name: string, content: string): void {
  fs.writeFileSync(path.join(dir, name), content);
}

function sh(argv: readonly string[], dir: string): void {
  const r = bare(argv, dir);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.err}`);
}

function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** main.o + util.o and libx.a (x1.o, x2.o): prints "<util> <x>". */
function cProject(dir: string, cc = "gcc", xValue = 7): void {
  put(dir, "main.c", '#include <stdio.h>\nint util(void);\nint x_value(void);\nint main(void) { printf("%d %d\\n", util(), x_value()); return 0; }\n');
  put(dir, "util.c", "int util(void) { return 3; }\n");
  put(dir, "x1.c", `int x_helper(void) { return ${xValue}; }\n`);
  put(dir, "x2.c", "int x_helper(void);\nint x_value(void) { return x_helper() * 10; }\n");
  for (const f of ["main", "util", "x1", "x2"]) sh([cc, "-O2", "-fPIC", "-c", `${f}.c`, "-o", `${f}.o`], dir);
  fs.rmSync(path.join(dir, "libx.a"), { force: true });
  sh(["ar", "rcs", "libx.a", "x1.o", "x2.o"], dir);
}

interface Linked {
  readonly bytes: Buffer;
  readonly bare: RunResult;
}

/**
 * Bare link first (the reference), then a miss and a hit through zccache writing the same
 * bytes, with the same stdout/stderr/exit code and the executable bit.
 */
function linkMissThenHit(dir: string, argv: readonly string[], output: string, missCounts = MISS): Linked {
  const out = path.join(dir, output);
  fs.rmSync(out, { force: true });
  const b = bare(argv, dir);
  expect({ argv, code: b.code, err: b.err }).toEqual({ argv, code: 0, err: b.err });
  const bareBytes = readOrNull(out);
  const bareMode = fs.statSync(out).mode & 0o777;
  fs.rmSync(out, { force: true });
  const miss = zcMeasured(argv, dir);
  expect({ argv, ...counts(miss.d) }).toEqual({ argv, ...missCounts });
  expect(miss.d.link).toEqual(missCounts.hits === 1 ? { hits: 1 } : { misses: 1 });
  expectSameBytes(readOrNull(out), bareBytes, `${argv.join(" ")} (miss)`);
  fs.rmSync(out, { force: true });
  const hit = zcMeasured(argv, dir);
  expect({ argv, ...counts(hit.d) }).toEqual({ argv, ...HIT });
  expect(hit.d.link).toEqual({ hits: 1 });
  expect({ code: hit.r.code, out: hit.r.out, err: hit.r.err }).toEqual({ code: b.code, out: b.out, err: b.err });
  expectSameBytes(readOrNull(out), bareBytes, `${argv.join(" ")} (hit)`);
  expect(fs.statSync(out).mode & 0o777).toBe(bareMode);
  return { bytes: bareBytes as Buffer, bare: b };
}

/** A bare link and one through zccache with `extra` in the environment (sameAsBare); our counts. */
function linkCompared(dir: string, argv: readonly string[], output: string, extra: Record<string, string>): Counts {
  return sameAsBare({ dir, argv, output, env: env.env, extra }, () => {
    const z = zcMeasured(argv, dir, extra);
    return { r: z.r, value: counts(z.d) };
  });
}

function runProgram(p: string): string {
  const r = run([p]);
  expect(r.code).toBe(0);
  return r.out;
}

// ---- suites ----

describe("drivers: a hit is the executable a bare link writes, and it runs", () => {
  const drivers: [string, string][] = [
    ["gcc", "gcc"],
    ["g++", "g++"],
    ["clang", "clang"],
  ];
  for (const [name, cc] of drivers) {
    test(name, () => {
      const dir = scenario(`driver-${name.replace(/\+/g, "p")}`);
      cProject(dir);
      linkMissThenHit(dir, [cc, "main.o", "util.o", "-L.", "-lx", "-o", "prog"], "prog");
      expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
      expect(fs.statSync(path.join(dir, "prog")).mode & 0o111).not.toBe(0);
    });
  }

  test("clang -fuse-ld=lld", () => {
    if (!requireTool("ld.lld", "this test is")) return;
    const dir = scenario("driver-lld");
    cProject(dir, "clang");
    linkMissThenHit(dir, ["clang", "-fuse-ld=lld", "main.o", "util.o", "-L.", "-lx", "-o", "prog"], "prog");
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
  });

  test("-shared: a shared library, and a program linked against it", () => {
    const dir = scenario("shared");
    cProject(dir);
    linkMissThenHit(dir, ["gcc", "-shared", "x1.o", "x2.o", "-o", "libxs.so"], "libxs.so");
    linkMissThenHit(dir, ["gcc", "main.o", "util.o", "-L.", "-lxs", "-Wl,-rpath,$ORIGIN", "-o", "dyn"], "dyn");
    expect(runProgram(path.join(dir, "dyn"))).toBe("3 70\n");
  });
});

describe("direct linkers", () => {
  // A freestanding program: no crt files or libc, so ld can link it on its own.
  const START =
    "int helper(void);\n" +
    "static long sys3(long n, long a, long b, long c) { long r; __asm__ volatile(\"syscall\" : \"=a\"(r) : \"a\"(n), \"D\"(a), \"S\"(b), \"d\"(c) : \"rcx\", \"r11\", \"memory\"); return r; }\n" +
    'void _start(void) { char buf[9] = {\'d\', \'i\', \'r\', \'e\', \'c\', \'t\', \' \', \'0\', \'\\n\'}; buf[7] = (char)(\'0\' + helper()); sys3(1, 1, (long)buf, 9); sys3(60, 0, 0, 0); for (;;) {} }\n';

  function freestanding(dir: string, helperValue: number): void {
    put(dir, "start.c", START);
    put(dir, "helper.c", `int helper(void) { return ${helperValue}; }\n`);
    for (const f of ["start", "helper"]) sh(["gcc", "-O2", "-fno-pie", "-fno-stack-protector", "-ffreestanding", "-c", `${f}.c`], dir);
    fs.rmSync(path.join(dir, "libhelper.a"), { force: true });
    sh(["ar", "rcs", "libhelper.a", "helper.o"], dir);
  }

  const linkers = ["ld", "ld.lld", "ld.gold"];
  for (const ld of linkers) {
    test(`${ld}: runnable static executable, -L/-l library changes miss`, () => {
      if (!requireTool(ld, "this test is")) return;
      const dir = scenario(`direct-${ld}`);
      freestanding(dir, 7);
      const argv = [ld, "-static", "-e", "_start", "start.o", "-L.", "-lhelper", "-o", "prog"];
      linkMissThenHit(dir, argv, "prog");
      expect(runProgram(path.join(dir, "prog"))).toBe("direct 7\n");
      // The library found through -L/-l changes: a miss, and the new program.
      freestanding(dir, 4);
      linkMissThenHit(dir, argv, "prog", CHANGED);
      expect(runProgram(path.join(dir, "prog"))).toBe("direct 4\n");
      // A linker script (-T) is an input: changing it misses.
      put(dir, "prog.ld", "ENTRY(_start)\nSECTIONS {\n  . = 0x10000;\n  .text : { *(.text*) }\n  . = 0x200000;\n  .data : { *(.rodata*) *(.data*) *(.bss*) }\n}\n");
      const scripted = [ld, "-static", "-T", "prog.ld", "start.o", "-L.", "-lhelper", "-o", "scripted"];
      const s1 = linkMissThenHit(dir, scripted, "scripted");
      put(dir, "prog.ld", "ENTRY(_start)\nSECTIONS {\n  . = 0x20000;\n  .text : { *(.text*) }\n  . = 0x200000;\n  .data : { *(.rodata*) *(.data*) *(.bss*) }\n}\n");
      const s2 = linkMissThenHit(dir, scripted, "scripted");
      expect(s1.bytes.equals(s2.bytes)).toBe(false);
      expect(runProgram(path.join(dir, "scripted"))).toBe("direct 4\n");
      // ld -r: a relocatable object.
      linkMissThenHit(dir, [ld, "-r", "start.o", "helper.o", "-o", "both.o"], "both.o");
    });
  }
});

describe("what must miss", () => {
  test("a changed input object, library, linker script or flag; a new library shadowing the old", () => {
    const dir = scenario("invalidation");
    cProject(dir);
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    linkMissThenHit(dir, argv, "prog");
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");

    // An input object named on the command line.
    put(dir, "util.c", "int util(void) { return 4; }\n");
    sh(["gcc", "-O2", "-fPIC", "-c", "util.c", "-o", "util.o"], dir);
    linkMissThenHit(dir, argv, "prog", MISS);
    expect(runProgram(path.join(dir, "prog"))).toBe("4 70\n");

    // A library found through -L/-l, rewritten with the same size.
    put(dir, "x1.c", "int x_helper(void) { return 8; }\n");
    sh(["gcc", "-O2", "-fPIC", "-c", "x1.c", "-o", "x1.o"], dir);
    fs.rmSync(path.join(dir, "libx.a"));
    sh(["ar", "rcs", "libx.a", "x1.o", "x2.o"], dir);
    fs.rmSync(path.join(dir, "prog"));
    expect(counts(zcMeasured(argv, dir).d)).toEqual(CHANGED);
    // explain names the input that changed.
    expect(env.zc(["explain", path.join(dir, "prog")]).out).toContain(`${path.join(dir, "libx.a")} changed`);
    linkMissThenHit(dir, argv, "prog", HIT);
    expect(runProgram(path.join(dir, "prog"))).toBe("4 80\n");

    // A new shared libx.so next to libx.a: the linker now prefers it.
    put(dir, "x1.c", "int x_helper(void) { return 9; }\n");
    sh(["gcc", "-O2", "-fPIC", "-c", "x1.c", "-o", "x1s.o"], dir);
    sh(["gcc", "-shared", "x1s.o", "x2.o", "-o", "libx.so"], dir);
    linkMissThenHit(dir, [...argv, "-Wl,-rpath,$ORIGIN"], "prog", MISS);
    linkMissThenHit(dir, argv, "prog", CHANGED);
    expect(run([path.join(dir, "prog")], { env: { ...process.env, LD_LIBRARY_PATH: dir } }).out).toBe("4 90\n");
    fs.rmSync(path.join(dir, "libx.so"));
    // libx.so gone again: the entry from before it appeared is valid again.
    linkMissThenHit(dir, argv, "prog", HIT);
    expect(runProgram(path.join(dir, "prog"))).toBe("4 80\n");

    // A flag.
    linkMissThenHit(dir, [...argv, "-s"], "prog", MISS);
    linkMissThenHit(dir, [...argv, "-Wl,--build-id=sha1"], "prog", MISS);

    // A linker script (a version script for a shared library).
    put(dir, "ver.map", "V1 { global: x_value; local: *; };\n");
    const shared = ["gcc", "-shared", "x1.o", "x2.o", "-Wl,--version-script=ver.map", "-o", "libv.so"];
    const v1 = linkMissThenHit(dir, shared, "libv.so");
    put(dir, "ver.map", "V2 { global: x_value; local: *; };\n");
    const v2 = linkMissThenHit(dir, shared, "libv.so", MISS);
    expect(v1.bytes.equals(v2.bytes)).toBe(false);
  });

  test("a library in an earlier -L directory shadows the one found before", () => {
    const dir = scenario("shadow");
    cProject(dir);
    fs.mkdirSync(path.join(dir, "first"), { recursive: true });
    fs.mkdirSync(path.join(dir, "second"), { recursive: true });
    fs.renameSync(path.join(dir, "libx.a"), path.join(dir, "second", "libx.a"));
    const argv = ["gcc", "main.o", "util.o", "-Lfirst", "-Lsecond", "-lx", "-o", "prog"];
    linkMissThenHit(dir, argv, "prog");
    put(dir, "x1.c", "int x_helper(void) { return 5; }\n");
    sh(["gcc", "-O2", "-c", "x1.c", "-o", "x1b.o"], dir);
    sh(["ar", "rcs", "first/libx.a", "x1b.o", "x2.o"], dir);
    linkMissThenHit(dir, argv, "prog", CHANGED);
    expect(runProgram(path.join(dir, "prog"))).toBe("3 50\n");
  });

  test("an ld appearing where the driver looks first (COMPILER_PATH, an earlier PATH directory) is the one that links", () => {
    const dir = scenario("driver-programs");
    cProject(dir);
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    for (const where of ["COMPILER_PATH", "PATH"]) {
      const tools = path.join(dir, `tools-${where}`);
      fs.mkdirSync(tools);
      const extra: Record<string, string> = where === "PATH" ? { PATH: `${tools}:${env.env.PATH}` } : { COMPILER_PATH: tools };
      expect(linkCompared(dir, argv, "prog", extra).hits).toBe(0);
      expect(linkCompared(dir, argv, "prog", extra)).toEqual(HIT);
      const ld = path.join(tools, "ld");
      fs.writeFileSync(ld, `#!/bin/sh\necho "linked through ${where}" >&2\nexec /usr/bin/ld "$@"\n`, { mode: 0o755 });
      const old = new Date(Date.now() - 10_000);
      fs.utimesSync(ld, old, old);
      // Bare gcc runs it (and says so): never the entry linked by the ld found before.
      expect(linkCompared(dir, argv, "prog", extra).hits).toBe(0);
    }
  });

  test("a startup file appearing in a directory the driver searches first (LIBRARY_PATH) is the one linked", () => {
    const dir = scenario("startfiles");
    cProject(dir);
    const lib = path.join(dir, "lib0");
    fs.mkdirSync(lib);
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    const extra = { LIBRARY_PATH: lib };
    expect(linkCompared(dir, argv, "prog", extra).hits).toBe(0);
    expect(linkCompared(dir, argv, "prog", extra)).toEqual(HIT);
    // The driver's own Scrt1.o with one more section: another executable.
    const crt = bare(["gcc", "-print-file-name=Scrt1.o"], dir).out.trim();
    sh(["objcopy", "--add-section", `.zc=${path.join(dir, "main.c")}`, crt, path.join(lib, "Scrt1.o")], dir);
    const old = new Date(Date.now() - 10_000);
    fs.utimesSync(path.join(lib, "Scrt1.o"), old, old);
    expect(linkCompared(dir, argv, "prog", extra)).toEqual(CHANGED);
  });

  // gcc searches LIBRARY_PATH's directories, then LPATH's (a native gcc reads it as it reads
  // LIBRARY_PATH), after the -L ones.
  for (const variable of ["LIBRARY_PATH", "LPATH"]) {
    test(`libraries found through ${variable}: other directories there miss, as does a library appearing in an earlier one`, () => {
      const dir = scenario(`search-${variable}`);
      cProject(dir);
      for (const [sub, x] of [["b", 7], ["c", 5]] as const) {
        fs.mkdirSync(path.join(dir, sub));
        put(dir, "x1.c", `int x_helper(void) { return ${x}; }\n`);
        sh(["gcc", "-O2", "-c", "x1.c", "-o", "x1.o"], dir);
        sh(["ar", "rcs", `${sub}/libx.a`, "x1.o", "x2.o"], dir);
      }
      fs.mkdirSync(path.join(dir, "a"));
      const argv = ["gcc", "main.o", "util.o", "-lx", "-o", "prog"];
      const out = path.join(dir, "prog");
      /** A bare link and one through zccache with `dirs` in the variable: same bytes; the counts. */
      const link = (dirs: string[]): Counts => linkCompared(dir, argv, "prog", { [variable]: dirs.map((d) => path.join(dir, d)).join(":") });
      expect(link(["b"])).toEqual(MISS);
      expect(link(["b"])).toEqual(HIT);
      expect(runProgram(out)).toBe("3 70\n");
      // Another directory: another library, although the one found before is unchanged.
      expect(link(["c"]).hits).toBe(0);
      expect(runProgram(out)).toBe("3 50\n");
      expect(link(["a", "b"]).hits).toBe(0);
      expect(link(["a", "b"])).toEqual(HIT);
      // A library appearing in the earlier directory wins from now on.
      put(dir, "x1.c", "int x_helper(void) { return 6; }\n");
      sh(["gcc", "-O2", "-c", "x1.c", "-o", "x1.o"], dir);
      sh(["ar", "rcs", "a/libx.a", "x1.o", "x2.o"], dir);
      expect(link(["a", "b"])).toEqual(CHANGED);
      expect(runProgram(out)).toBe("3 60\n");
      expect(link(["a", "b"])).toEqual(HIT);
      // gcc searches each entry's `../lib` (and `<machine>/` below it) before the entry: the
      // directories the driver reports for this value, not for the daemon's first link.
      fs.mkdirSync(path.join(dir, "lib"));
      put(dir, "x1.c", "int x_helper(void) { return 4; }\n");
      sh(["gcc", "-O2", "-c", "x1.c", "-o", "x1.o"], dir);
      sh(["ar", "rcs", "lib/libx.a", "x1.o", "x2.o"], dir);
      expect(link(["a", "b"])).toEqual(CHANGED);
      expect(runProgram(out)).toBe("3 40\n");
    });
  }
});

describe("side files and the deploy hook", () => {
  test("a map file (-Wl,-Map) is captured and restored, here and in another directory", () => {
    const dir = scenario("map");
    cProject(dir);
    fs.mkdirSync(path.join(dir, "maps"), { recursive: true });
    for (const [argv, map] of [
      [["gcc", "main.o", "util.o", "-L.", "-lx", "-Wl,-Map=prog.map", "-o", "prog"], "prog.map"],
      [["gcc", "main.o", "util.o", "-L.", "-lx", "-Wl,-Map,maps/other.map", "-o", "prog"], "maps/other.map"],
    ] as const) {
      const mapPath = path.join(dir, map);
      fs.rmSync(mapPath, { force: true });
      sh(argv, dir);
      const bareMap = readOrNull(mapPath);
      fs.rmSync(mapPath);
      linkMissThenHit(dir, argv, "prog");
      // linkMissThenHit left the hit's files: the map came back with it.
      expectSameBytes(readOrNull(mapPath), bareMap, `${map} (hit)`);
      fs.rmSync(mapPath);
      fs.rmSync(path.join(dir, "prog"));
      expect(counts(zcMeasured(argv, dir).d)).toEqual(HIT);
      expectSameBytes(readOrNull(mapPath), bareMap, `${map} (second hit)`);
    }
  });

  test("ZCCACHE_LINK_DEPLOY_CMD: runs after an uncached link; what it drops is restored on hits", () => {
    const dir = scenario("deploy");
    cProject(dir);
    const hookLog = path.join(env.work, "deploy-runs.log");
    const hook = path.join(env.work, "deploy.sh");
    fs.writeFileSync(
      hook,
      `set -e\nobjcopy --only-keep-debug "$1" "$1.debug"\nsha256sum "$1" | cut -d' ' -f1 > "$1.sig"\necho ran >> ${hookLog}\n`,
    );
    const hookEnv = { ZCCACHE_LINK_DEPLOY_CMD: `sh ${hook}` };
    const argv = ["gcc", "-g", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    const miss = zcMeasured(argv, dir, hookEnv);
    expect(counts(miss.d)).toEqual(MISS);
    expect(miss.r.out).toBe("");
    expect(fs.readFileSync(hookLog, "utf8")).toBe("ran\n");
    const files = ["prog", "prog.debug", "prog.sig"].map((f) => fs.readFileSync(path.join(dir, f)));
    for (const f of ["prog", "prog.debug", "prog.sig"]) fs.rmSync(path.join(dir, f));
    const hit = zcMeasured(argv, dir, hookEnv);
    expect(counts(hit.d)).toEqual(HIT);
    ["prog", "prog.debug", "prog.sig"].forEach((f, i) => expectSameBytes(readOrNull(path.join(dir, f)), files[i] ?? null, `${f} (hit)`));
    expect(fs.readFileSync(hookLog, "utf8")).toBe("ran\n");
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
    // Without the hook it is another result: a miss that writes no deploy files.
    fs.rmSync(path.join(dir, "prog.sig"));
    expect(counts(zcMeasured(argv, dir).d)).toEqual(MISS);
    expect(fs.existsSync(path.join(dir, "prog.sig"))).toBe(false);
  });

  test("deploy hook: quoted words, run in the output's directory with the build's environment, its script in the key", () => {
    const dir = scenario("deploy-words");
    cProject(dir);
    fs.mkdirSync(path.join(dir, "out"));
    const hookDir = path.join(env.work, "hook dir");
    fs.mkdirSync(hookDir, { recursive: true });
    const hook = path.join(hookDir, "deploy it.sh");
    // Writes where it runs, what the build's environment says, and a tag naming its own version.
    const script = (version: string): string => `set -e\n{ pwd; echo "$1 $DEPLOY_FLAVOUR ${version}"; } > "$(basename "$2").info"\n`;
    fs.writeFileSync(hook, script("v1"));
    const back = new Date(Date.now() - 60_000);
    fs.utimesSync(hook, back, back);
    const hookEnv = { ZCCACHE_LINK_DEPLOY_CMD: `sh '${hook}' "two words"`, DEPLOY_FLAVOUR: "mint" };
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "out/prog"];
    const info = path.join(dir, "out", "prog.info");
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(MISS);
    expect(fs.readFileSync(info, "utf8")).toBe(`${path.join(dir, "out")}\ntwo words mint v1\n`);
    fs.rmSync(info);
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(HIT);
    expect(fs.readFileSync(info, "utf8")).toBe(`${path.join(dir, "out")}\ntwo words mint v1\n`);
    // A new version of the script is another result: never the old script's files.
    fs.writeFileSync(hook, script("v2"));
    fs.utimesSync(hook, back, back);
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(MISS);
    expect(fs.readFileSync(info, "utf8")).toBe(`${path.join(dir, "out")}\ntwo words mint v2\n`);
  });

  test("deploy hook: any file it drops next to the output (libruntime.so) is restored on hits", () => {
    const dir = scenario("deploy-any");
    cProject(dir);
    fs.mkdirSync(path.join(dir, "bin"));
    const hook = path.join(env.work, "deploy-runtime.sh");
    fs.writeFileSync(hook, `set -e\nprintf 'runtime for %s\\n' "$(basename "$1")" > libruntime.so\necho '{"ok":1}' > settings.json\n`);
    const back = new Date(Date.now() - 60_000);
    fs.utimesSync(hook, back, back);
    const hookEnv = { ZCCACHE_LINK_DEPLOY_CMD: `sh ${hook}` };
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "bin/prog"];
    const files = ["bin/prog", "bin/libruntime.so", "bin/settings.json"];
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(MISS);
    const written = files.map((f) => fs.readFileSync(path.join(dir, f)));
    for (const f of files) fs.rmSync(path.join(dir, f));
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(HIT);
    files.forEach((f, i) => expectSameBytes(readOrNull(path.join(dir, f)), written[i] ?? null, `${f} (hit)`));
  });

  test("deploy hook: a file another job of ours writes next to the output meanwhile is never captured", async () => {
    const dir = scenario("deploy-race");
    cProject(dir);
    const hook = path.join(env.work, "deploy-wait.sh");
    // Drops its runtime, then waits (bounded) until the other link has written its program.
    fs.writeFileSync(
      hook,
      `set -e\necho runtime > libruntime.so\ni=0\nwhile [ ! -e other-prog ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n`,
    );
    const back = new Date(Date.now() - 60_000);
    fs.utimesSync(hook, back, back);
    const hookEnv = { ZCCACHE_LINK_DEPLOY_CMD: `sh ${hook}` };
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    const first = env.zcAsync(argv, { cwd: dir, env: hookEnv });
    // The other link, through the same daemon, while the first one's hook runs.
    expect(await waitUntil(() => fs.existsSync(path.join(dir, "libruntime.so")), 60_000)).toBe(true);
    expectOk(env.zc(["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "other-prog"], { cwd: dir }), "other link");
    expectOk(await first, "first link");
    const otherProg = fs.readFileSync(path.join(dir, "other-prog"));
    // The first link's entry has its program and its runtime, not the other link's program.
    for (const f of ["prog", "libruntime.so", "other-prog"]) fs.rmSync(path.join(dir, f));
    fs.writeFileSync(path.join(dir, "other-prog"), "newer\n");
    expect(counts(zcMeasured(argv, dir, hookEnv).d)).toEqual(HIT);
    expect(fs.readFileSync(path.join(dir, "libruntime.so"), "utf8")).toBe("runtime\n");
    expect(fs.readFileSync(path.join(dir, "other-prog"), "utf8")).toBe("newer\n");
    expect(otherProg.length).toBeGreaterThan(0);
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
  });

  test("deploy hook: a file another program's entry owns is not taken by a second program's hook", () => {
    const dir = scenario("deploy-owned");
    cProject(dir);
    const hook = (tag: string): Record<string, string> => {
      const p = path.join(env.work, `deploy-${tag}.sh`);
      fs.writeFileSync(p, `set -e\necho ${tag} > libshared-runtime.so\n`);
      const back = new Date(Date.now() - 60_000);
      fs.utimesSync(p, back, back);
      return { ZCCACHE_LINK_DEPLOY_CMD: `sh ${p}` };
    };
    expect(counts(zcMeasured(["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "one"], dir, hook("one")).d)).toEqual(MISS);
    // The second program's hook rewrites the first one's runtime: a hit of either would undo the other.
    expect(counts(zcMeasured(["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "two"], dir, hook("two")).d)).toEqual(uncacheable("output-dir-race"));
    expect(fs.readFileSync(path.join(dir, "libshared-runtime.so"), "utf8")).toBe("two\n");
  });

  test("deploy hook: an object or source written next to the output is another part of the build's; the link is not stored", () => {
    const dir = scenario("deploy-build-file");
    cProject(dir);
    const hook = path.join(env.work, "deploy-object.sh");
    fs.writeFileSync(hook, "set -e\ncp util.o util-copy.o\n");
    const back = new Date(Date.now() - 60_000);
    fs.utimesSync(hook, back, back);
    const z = zcMeasured(["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"], dir, { ZCCACHE_LINK_DEPLOY_CMD: `sh ${hook}` });
    expect(z.r.code).toBe(0);
    expect(counts(z.d)).toEqual(uncacheable("output-dir-race"));
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
  });

  test("a deploy hook that cannot be split (an open quote) is one line; the link keeps its result", () => {
    const dir = scenario("deploy-quote");
    cProject(dir);
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    const z = zcMeasured(argv, dir, { ZCCACHE_LINK_DEPLOY_CMD: "sh 'deploy.sh" });
    expect(z.r.code).toBe(0);
    expect(z.r.err).toBe("zccache: ZCCACHE_LINK_DEPLOY_CMD: unterminated ' quote; the deploy hook did not run\n");
    expect(counts(z.d)).toEqual(uncacheable("deploy-failed"));
    expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
  });

  test("a failing deploy hook does not fail the link, and nothing is stored", () => {
    const dir = scenario("deploy-fail");
    cProject(dir);
    const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-o", "prog"];
    for (let i = 0; i < 2; i++) {
      fs.rmSync(path.join(dir, "prog"), { force: true });
      const z = zcMeasured(argv, dir, { ZCCACHE_LINK_DEPLOY_CMD: "false" });
      expect(z.r.code).toBe(0);
      expect(counts(z.d)).toEqual(uncacheable("deploy-failed"));
      expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
    }
    const missing = zcMeasured(argv, dir, { ZCCACHE_LINK_DEPLOY_CMD: "/nonexistent/deploy-tool --flag" });
    expect(missing.r.code).toBe(0);
    expect(counts(missing.d)).toEqual(uncacheable("deploy-failed"));
  });
});

test("a random build id (--build-id=uuid) is cached and reported with a hint", () => {
  const dir = scenario("build-id");
  cProject(dir);
  const argv = ["gcc", "main.o", "util.o", "-L.", "-lx", "-Wl,--build-id=uuid", "-o", "prog"];
  const hints = () => ((env.status() as { hints?: Record<string, number> }).hints ?? {})["build-id-uuid"] ?? 0;
  const before = hints();
  expect(counts(zcMeasured(argv, dir).d)).toEqual(MISS);
  const stored = fs.readFileSync(path.join(dir, "prog"));
  fs.rmSync(path.join(dir, "prog"));
  expect(counts(zcMeasured(argv, dir).d)).toEqual(HIT);
  expectSameBytes(readOrNull(path.join(dir, "prog")), stored, "program with a random build id (hit)");
  expect(hints() - before).toBe(2);
  expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
});

describe("not cached", () => {
  test("a failing link is never cached and keeps the linker's error", () => {
    const dir = scenario("failing");
    cProject(dir);
    const argv = ["gcc", "main.o", "-o", "prog"];
    const b = bare(argv, dir);
    expect(b.code).not.toBe(0);
    for (let i = 0; i < 2; i++) {
      const z = zcMeasured(argv, dir);
      expect({ code: z.r.code, out: z.r.out, err: z.r.err }).toEqual({ code: b.code, out: b.out, err: b.err });
      expect(counts(z.d)).toEqual(uncacheable("compile-failed"));
      expect(z.d.link).toEqual({ uncacheable: 1 });
    }
  });

  test("compile and link in one call, a missing input, an unknown linker option", () => {
    const dir = scenario("uncacheable");
    cProject(dir);
    const cases: [string[], string][] = [
      [["gcc", "main.c", "util.o", "-L.", "-lx", "-o", "prog"], "compile-and-link"],
      [["gcc", "main.o", "nothere.o", "-o", "prog"], "missing-input"],
      [["gcc", "main.o", "util.o", "-L.", "-lx", "-Wl,--zc-no-such-option", "-o", "prog"], "unknown-option"],
      [["ld", "--version"], "too-hard"],
    ];
    for (const [argv, reason] of cases) {
      const b = bare(argv, dir);
      const z = zcMeasured(argv, dir);
      expect({ argv, ...counts(z.d) }).toEqual({ argv, ...uncacheable(reason) });
      expect({ argv, code: z.r.code }).toEqual({ argv, code: b.code });
      if (reason === "compile-and-link") expect(runProgram(path.join(dir, "prog"))).toBe("3 70\n");
    }
  });
});
