// Adversarial cases for the clang-tidy / include-what-you-use cache: every run through
// zccache must print what the bare tool prints now, in the same directory with the same
// environment (stdout, stderr and exit code byte for byte). Configuration lookups the tools
// make by path spelling ($PWD, "..", symlinks), files the tools read that no depfile names,
// time macros and the side runs a miss makes are attacked here.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type RunResult } from "../helpers.ts";
import { type OutcomeCounts, outcomeCounts } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

const HAVE_TIDY = requireTool("clang-tidy", "clang-tidy attack suite");
const HAVE_IWYU = requireTool("include-what-you-use", "include-what-you-use attack suite");

type Delta = OutcomeCounts;
const diff = outcomeCounts;

const HIT: Delta = { hits: 1, misses: 0, uncacheable: 0, reasons: {} };
const NEW: Delta = { hits: 0, misses: 1, uncacheable: 0, reasons: { "new-source": 1 } };
const CHANGED: Delta = { hits: 0, misses: 1, uncacheable: 0, reasons: { "inputs-changed": 1 } };

/** Dated `ageMs` back: outside the racy window, so a hit is a real one. */
function backdate(p: string, ageMs = 10_000): void {
  const t = new Date(Date.now() - ageMs);
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const n of fs.readdirSync(p)) backdate(path.join(p, n), ageMs);
  fs.utimesSync(p, t, t);
}

function write(p: string, text: string, ageMs = 10_000): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  backdate(p, ageMs);
}

function symlink(target: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
}

/**
 * Runs `argv` bare and through zccache in `cwd` with `extraEnv` in both; the bytes must be
 * the bare run's. `want`, when given, is the change in the cache's counters.
 */
function sameAsBare(argv: readonly string[], cwd: string, want: Delta | null, extraEnv: Record<string, string> = {}, attempts = 1): RunResult {
  // Output that prints the time differs when the two runs straddle a second: such a pair
  // starts just after a second begins, and runs again if it still straddled one (a replay
  // of an old time differs every time).
  const atSecondStart = (): void => {
    if (attempts > 1) Bun.sleepSync(1020 - (Date.now() % 1000));
  };
  atSecondStart();
  let b = bare(argv, cwd, { ...process.env, ...extraEnv });
  let before = env.status();
  let r = env.zc(argv, { cwd, env: extraEnv });
  for (let i = 1; i < attempts && !(r.stdout.equals(b.stdout) && r.stderr.equals(b.stderr)); i++) {
    atSecondStart();
    b = bare(argv, cwd, { ...process.env, ...extraEnv });
    before = env.status();
    r = env.zc(argv, { cwd, env: extraEnv });
  }
  const d = diff(before, env.status());
  expect({ code: r.code, out: r.out, err: r.err }).toEqual({ code: b.code, out: b.out, err: b.err });
  expect(r.stdout.equals(b.stdout)).toBe(true);
  expect(r.stderr.equals(b.stderr)).toBe(true);
  if (want !== null) expect(d).toEqual(want);
  return r;
}

/** One second and a bit: enough for __TIME__ to move on. */
const nextSecond = (): void => Bun.sleepSync(1100);

const BRACES = "-checks=-*,readability-braces-around-statements";
const BRACES_CFG = "Checks: '-*,readability-braces-around-statements'\n";
const ANALYZER_CFG = "Checks: '-*,clang-analyzer-*'\n";
const SOURCE = `#include "a.h"
int main(void) {
  int x;
  if (x) return f(1);
  return 0;
}
`;
const HEADER = "int f(int x);\n";

/** `<dir>` with a.c and inc/a.h. */
function project(dir: string): string {
  write(path.join(dir, "inc", "a.h"), HEADER);
  write(path.join(dir, "a.c"), SOURCE);
  return dir;
}

const tidy = (opts: readonly string[], source = "a.c", compile: readonly string[] = ["-Iinc"]): string[] => ["clang-tidy", ...opts, source, "--", ...compile];

function naming(caseStyle: string, inherit = false): string {
  return [
    // Inherited checks are extended: "-*" would drop the parent's.
    inherit ? "Checks: 'readability-identifier-naming'" : "Checks: '-*,readability-identifier-naming'",
    ...(inherit ? ["InheritParentConfig: true"] : []),
    "CheckOptions:",
    "  - key: readability-identifier-naming.GlobalVariableCase",
    `    value: ${caseStyle}`,
    "",
  ].join("\n");
}

describe.skipIf(!HAVE_TIDY)("clang-tidy: paths as the tool spells them", () => {
  test("a cwd entered through a symlink ($PWD): reports name the file as $PWD spells it", () => {
    const top = path.join(env.work, "pwd-out");
    const real = project(path.join(top, "A", "real", "proj"));
    const link = path.join(top, "B", "lnk");
    symlink(real, link);
    const argv = tidy([BRACES]);
    const viaLink = sameAsBare(argv, link, NEW, { PWD: link });
    expect(viaLink.out).toContain(`${link}/a.c:4:`);
    sameAsBare(argv, link, HIT, { PWD: link });
    // The same physical cwd, entered by its real name: the bare tool names ${real}/a.c.
    const viaReal = sameAsBare(argv, real, null, { PWD: real });
    expect(viaReal.out).toContain(`${real}/a.c:4:`);
  });

  test("a cwd entered through a symlink ($PWD): .clang-tidy in the link's parents applies", () => {
    const top = path.join(env.work, "pwd-config");
    const real = project(path.join(top, "A", "real", "proj"));
    const link = path.join(top, "B", "lnk");
    symlink(real, link);
    const argv = tidy([]);
    sameAsBare(argv, link, NEW, { PWD: link });
    sameAsBare(argv, link, HIT, { PWD: link });
    // clang-tidy walks ${top}/B, ${top}, … (the parents of $PWD/a.c), not those of the real dir.
    write(path.join(top, "B", ".clang-tidy"), BRACES_CFG);
    const r = sameAsBare(argv, link, null, { PWD: link });
    expect(r.out).toContain("readability-braces-around-statements");
  });

  test("a header reached through 'link/..': .clang-tidy in its real directory (identifier naming per file)", () => {
    const top = path.join(env.work, "dotdot-header");
    const proj = path.join(top, "proj");
    write(path.join(proj, "a.c"), '#include "h.h"\nint main(void) { return BadGlobal; }\n');
    write(path.join(proj, ".clang-tidy"), naming("lower_case"));
    write(path.join(top, "other", "hdr", "h.h"), "int BadGlobal;\n");
    fs.mkdirSync(path.join(top, "other", "inner"), { recursive: true });
    symlink(path.join(top, "other", "inner"), path.join(proj, "lnk"));
    // lnk/.. is ${top}/other to the kernel; its textual normal form ${proj} has no hdr at all.
    const argv = tidy(["-header-filter=.*"], "a.c", ["-Ilnk/../hdr"]);
    expect(sameAsBare(argv, proj, NEW).out).toContain("bad_global");
    sameAsBare(argv, proj, HIT);
    write(path.join(top, "other", "hdr", ".clang-tidy"), naming("UPPER_CASE"));
    expect(sameAsBare(argv, proj, null).out).toContain("BAD_GLOBAL");
  });

  test("a source spelled 'd/../a.c': .clang-tidy in d is read (clang-tidy does not remove dots)", () => {
    const cwd = project(path.join(env.work, "dotdot-source"));
    fs.mkdirSync(path.join(cwd, "d"));
    backdate(path.join(cwd, "d"));
    const argv = tidy([], "d/../a.c");
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    write(path.join(cwd, "d", ".clang-tidy"), BRACES_CFG);
    expect(sameAsBare(argv, cwd, CHANGED).out).toContain("readability-braces-around-statements");
    sameAsBare(argv, cwd, HIT);
  });

  test("readability-identifier-naming reads the .clang-tidy of the header's own directory", () => {
    const top = path.join(env.work, "header-config");
    const src = path.join(top, "src");
    write(path.join(src, "a.c"), '#include "h.h"\nint main(void) { return BadGlobal; }\n');
    write(path.join(src, ".clang-tidy"), naming("lower_case"));
    write(path.join(top, "hdr", "h.h"), "int BadGlobal;\n");
    const argv = tidy(["-header-filter=.*"], "a.c", ["-I../hdr"]);
    expect(sameAsBare(argv, src, NEW).out).toContain("bad_global");
    sameAsBare(argv, src, HIT);
    write(path.join(top, "hdr", ".clang-tidy"), naming("UPPER_CASE"));
    expect(sameAsBare(argv, src, CHANGED).out).toContain("BAD_GLOBAL");
    sameAsBare(argv, src, HIT);
    // NOLINT in the header: its content is an input.
    write(path.join(top, "hdr", "h.h"), "int BadGlobal; // NOLINT\n");
    expect(sameAsBare(argv, src, CHANGED).out).not.toContain("BAD_GLOBAL");
  });
});

describe.skipIf(!HAVE_TIDY)("clang-tidy: configuration", () => {
  test("InheritParentConfig: a change two levels up misses; so does an inline --config that inherits", () => {
    const top = path.join(env.work, "inherit");
    const cwd = path.join(top, "a", "b");
    write(path.join(cwd, "a.c"), "int GlobalOne;\nint main(void) { int x; if (x) return GlobalOne; return 0; }\n");
    write(path.join(top, ".clang-tidy"), BRACES_CFG);
    write(path.join(cwd, ".clang-tidy"), naming("lower_case", true));
    const argv = tidy([], "a.c", []);
    const first = sameAsBare(argv, cwd, NEW);
    expect(first.out).toContain("global_one");
    sameAsBare(argv, cwd, HIT);
    write(path.join(top, ".clang-tidy"), ANALYZER_CFG);
    expect(sameAsBare(argv, cwd, CHANGED).out).toContain("clang-analyzer-core");
    sameAsBare(argv, cwd, HIT);
    // --config as inline YAML that inherits the files' settings.
    const inline = tidy(["--config={InheritParentConfig: true, Checks: 'readability-braces-around-statements'}"], "a.c", []);
    sameAsBare(inline, cwd, NEW);
    sameAsBare(inline, cwd, HIT);
    write(path.join(top, ".clang-tidy"), BRACES_CFG);
    sameAsBare(inline, cwd, CHANGED);
    // --checks on the command line over the files: a new entry, and a hit after.
    sameAsBare(tidy(["--checks=-*,clang-analyzer-*"], "a.c", []), cwd, NEW);
    sameAsBare(tidy(["--checks=-*,clang-analyzer-*"], "a.c", []), cwd, HIT);
  });

  test("with '--' a compile_commands.json above is not read, nor a .clang-format", () => {
    const cwd = project(path.join(env.work, "compdb", "proj"));
    const argv = tidy(["-checks=-*,clang-analyzer-*,readability-braces-around-statements", "--format-style=file"]);
    sameAsBare(argv, cwd, NEW);
    const db = [{ directory: cwd, file: path.join(cwd, "a.c"), arguments: ["cc", "-Iinc", "-DNOPE", "-include", "missing.h", "-c", "a.c"] }];
    write(path.join(cwd, "compile_commands.json"), JSON.stringify(db));
    write(path.join(cwd, "..", "compile_commands.json"), JSON.stringify(db));
    write(path.join(cwd, ".clang-format"), "BasedOnStyle: GNU\nIndentWidth: 8\n");
    sameAsBare(argv, cwd, HIT);
  });

  test("option spellings only change what is reported: each its own entry, each replayed exactly", () => {
    const cwd = project(path.join(env.work, "spellings"));
    write(path.join(cwd, "inc", "a.h"), "static inline int g(int a) { if (a) return 1; return 0; }\nint f(int x);\n");
    const variants = [
      [BRACES, "-header-filter=.*"],
      [BRACES, "--header-filter", ".*", "--system-headers"],
      [BRACES, "--line-filter=[{\"name\":\"a.c\",\"lines\":[[1,3]]}]"],
      [BRACES, "-warnings-as-errors=*"],
      [BRACES, "--warnings-as-errors=*", "-header-filter=inc"],
      [BRACES, "--use-color"],
      [BRACES, "--quiet"],
    ];
    for (const v of variants) sameAsBare(tidy(v), cwd, NEW);
    for (const v of variants) sameAsBare(tidy(v), cwd, HIT);
    expect(sameAsBare(tidy(variants[5] as string[]), cwd, HIT).out).toContain("\u001b[");
  });

  test("-extra-arg-before / -extra-arg: a header that appears in an earlier search dir misses", () => {
    const cwd = project(path.join(env.work, "extra-arg"));
    fs.mkdirSync(path.join(cwd, "first"));
    backdate(path.join(cwd, "first"));
    const argv = tidy([BRACES, "-header-filter=.*", "-extra-arg-before=-Ifirst", "-extra-arg=-DEXTRA=1"]);
    sameAsBare(argv, cwd, NEW);
    sameAsBare(argv, cwd, HIT);
    write(path.join(cwd, "first", "a.h"), "static inline int f(int a) { if (a) return EXTRA; return 0; }\n");
    expect(sameAsBare(argv, cwd, CHANGED).out).toContain("first/a.h:1:");
    sameAsBare(argv, cwd, HIT);
  });

  test("queries and runs that write files are run every time and still write them", () => {
    const cwd = project(path.join(env.work, "writers"));
    const fixes = path.join(cwd, "f.yaml");
    const profile = path.join(cwd, "prof");
    const runs: { argv: string[]; reason: string; writes?: string }[] = [
      { argv: tidy([BRACES, "-export-fixes", fixes]), reason: "side-file", writes: fixes },
      { argv: tidy([BRACES, `--export-fixes=${fixes}`]), reason: "side-file", writes: fixes },
      { argv: tidy([BRACES, "--fix-errors"]), reason: "side-file" },
      { argv: tidy([BRACES, "--enable-check-profile", `--store-check-profile=${profile}`]), reason: "too-hard", writes: profile },
      { argv: tidy([BRACES, "-dump-config"]), reason: "info-query" },
      { argv: tidy([BRACES, "--explain-config"]), reason: "info-query" },
      { argv: tidy([BRACES, "--list-checks"]), reason: "info-query" },
    ];
    for (const { argv, reason, writes } of runs) {
      for (let i = 0; i < 2; i++) {
        if (writes !== undefined) fs.rmSync(writes, { recursive: true, force: true });
        const before = env.status();
        const r = env.zc(argv, { cwd });
        expect(diff(before, env.status())).toEqual({ hits: 0, misses: 0, uncacheable: 1, reasons: { [reason]: 1 } });
        expect(r.code).toBe(0);
        if (writes !== undefined) expect(fs.existsSync(writes)).toBe(true);
      }
    }
  });

  test("a header rewritten with the same size and mtime is read again", () => {
    const cwd = project(path.join(env.work, "racy"));
    const h = path.join(cwd, "inc", "a.h");
    const warns = "static inline int f(int a) { if (a) return 1; return 0; }\n";
    const quiet = `${"static inline int f(int a) { return a != 0; }".padEnd(warns.length - 1, " ")}\n`;
    expect(quiet.length).toBe(warns.length);
    const argv = tidy([BRACES, "-header-filter=.*"]);
    const rewrite = (text: string): void => {
      const st = fs.statSync(h);
      fs.writeFileSync(h, text);
      fs.utimesSync(h, st.atimeMs / 1000, st.mtimeMs / 1000);
      expect(fs.statSync(h).mtimeMs).toBe(st.mtimeMs);
    };
    // Written just now: inside the racy window.
    fs.writeFileSync(h, quiet);
    sameAsBare(argv, cwd, null);
    rewrite(warns);
    expect(sameAsBare(argv, cwd, null).out).toContain("a.h:1:");
    // And once old, the same trick after a stored entry.
    backdate(h, 20_000);
    sameAsBare(argv, cwd, null);
    sameAsBare(argv, cwd, HIT);
    rewrite(quiet);
    expect(sameAsBare(argv, cwd, null).out).not.toContain("a.h:1:");
  });

  test("concurrent runs of one command all print the bare run's answer", async () => {
    const cwd = project(path.join(env.work, "concurrent"));
    const argv = tidy(["-checks=-*,clang-analyzer-*,readability-braces-around-statements", "-warnings-as-errors=*"]);
    const b = bare(argv, cwd);
    const rs = await Promise.all([0, 1, 2].map(() => env.zcAsync(argv, { cwd })));
    for (const r of rs) expect([r.code, r.out, r.err]).toEqual([b.code, b.out, b.err]);
    sameAsBare(argv, cwd, HIT);
  });
});

describe.skipIf(!HAVE_TIDY)("clang-tidy: inputs no depfile names", () => {
  test("__TIME__ in a #pragma message is printed as of now", () => {
    const cwd = path.join(env.work, "time-macro");
    write(path.join(cwd, "a.c"), '#pragma message("at " __TIME__)\nint main(void) { return 0; }\n');
    const argv = tidy([], "a.c", []);
    sameAsBare(argv, cwd, null, {}, 5);
    nextSecond();
    sameAsBare(argv, cwd, null, {}, 5);
  });

  test("__TIME__ in an -extra-arg macro is printed as of now", () => {
    const cwd = path.join(env.work, "time-arg");
    write(path.join(cwd, "a.c"), "#pragma message(STAMP)\nint main(void) { return 0; }\n");
    const argv = tidy(["-extra-arg=-DSTAMP=__TIME__"], "a.c", []);
    sameAsBare(argv, cwd, null, {}, 5);
    nextSecond();
    sameAsBare(argv, cwd, null, {}, 5);
  });

  test("__has_include in an -extra-arg macro: a header that appears later is read", () => {
    const cwd = path.join(env.work, "has-include-arg");
    write(path.join(cwd, "a.c"), '#if HAVE_X\n#include "x.h"\n#endif\nint main(void) { return 0; }\n');
    const argv = tidy([BRACES, "-header-filter=.*", '-extra-arg=-DHAVE_X=__has_include("x.h")'], "a.c", []);
    sameAsBare(argv, cwd, null);
    sameAsBare(argv, cwd, null);
    write(path.join(cwd, "x.h"), "static inline int g(int a) { if (a) return 1; return 0; }\n");
    expect(sameAsBare(argv, cwd, null).out).toContain("x.h:1:");
  });

  test("#pragma GCC dependency warns by the dependency's mtime", () => {
    const cwd = path.join(env.work, "pragma-dependency");
    write(path.join(cwd, "dep.txt"), "x\n", 30_000);
    write(path.join(cwd, "a.c"), '#pragma GCC dependency "dep.txt"\nint main(void) { return 0; }\n', 20_000);
    const argv = tidy([], "a.c", []);
    expect(sameAsBare(argv, cwd, null).out).not.toContain("older than dependency");
    // The dependency becomes newer than the source: its content is the same.
    backdate(path.join(cwd, "dep.txt"), 10_000);
    expect(sameAsBare(argv, cwd, null).out).toContain("older than dependency");
  });

  test("CCC_OVERRIDE_OPTIONS: clang applies it, the tools do not; the headers the tool reads are inputs", () => {
    const cwd = path.join(env.work, "ccc-override");
    write(path.join(cwd, "a.c"), '#ifndef FOO\n#include "b.h"\n#endif\nint main(void) { return 0; }\n');
    write(path.join(cwd, "b.h"), "int g(void);\n");
    const argv = tidy([BRACES, "-header-filter=.*"], "a.c", []);
    const over = { CCC_OVERRIDE_OPTIONS: "+-DFOO" };
    sameAsBare(argv, cwd, null, over);
    sameAsBare(argv, cwd, null, over);
    write(path.join(cwd, "b.h"), "static inline int g(int a) { if (a) return 1; return 0; }\n");
    expect(sameAsBare(argv, cwd, null, over).out).toContain("b.h:1:");
  });
});

describe.skipIf(!HAVE_IWYU)("include-what-you-use: mapping files", () => {
  const SRC = '#include <string.h>\nint main(void) { return (int)strlen("a"); }\n';
  const mapTo = (header: string): string => `[\n  { symbol: ["strlen", "private", "<${header}>", "public"] }\n]\n`;
  const iwyu = (map: string): string[] => ["include-what-you-use", "-Xiwyu", "--error=3", "-Xiwyu", `--mapping_file=${map}`, "a.c"];

  test("a ref: written in other YAML spellings (plain value, quoted key) names an input", () => {
    const forms = ["{ ref: inner.imp }", '{ "ref": "inner.imp" }'];
    forms.forEach((form, i) => {
      const cwd = path.join(env.work, `iwyu-ref-yaml-${i}`);
      write(path.join(cwd, "a.c"), SRC);
      write(path.join(cwd, "inner.imp"), mapTo("stdlib.h"));
      write(path.join(cwd, "outer.imp"), `[\n  ${form}\n]\n`);
      expect(sameAsBare(iwyu("outer.imp"), cwd, null).err).toContain("<stdlib.h>  // for strlen");
      sameAsBare(iwyu("outer.imp"), cwd, null);
      write(path.join(cwd, "inner.imp"), mapTo("stdio.h"));
      expect(sameAsBare(iwyu("outer.imp"), cwd, null).err).toContain("<stdio.h>  // for strlen");
    });
  });

  test("a ref: IWYU finds relative to the cwd before the referrer's directory", () => {
    const cwd = path.join(env.work, "iwyu-ref-cwd");
    write(path.join(cwd, "a.c"), SRC);
    write(path.join(cwd, "maps", "outer.imp"), '[\n  { ref: "inner.imp" }\n]\n');
    write(path.join(cwd, "maps", "inner.imp"), mapTo("stdio.h"));
    write(path.join(cwd, "inner.imp"), mapTo("stdlib.h"));
    expect(sameAsBare(iwyu("maps/outer.imp"), cwd, null).err).toContain("<stdlib.h>  // for strlen");
    sameAsBare(iwyu("maps/outer.imp"), cwd, null);
    write(path.join(cwd, "inner.imp"), mapTo("stdint.h"));
    expect(sameAsBare(iwyu("maps/outer.imp"), cwd, null).err).toContain("<stdint.h>  // for strlen");
  });

  test("__TIME__ in a #pragma message is printed as of now", () => {
    const cwd = path.join(env.work, "iwyu-time");
    write(path.join(cwd, "a.c"), '#pragma message("at " __TIME__)\nint main(void) { return 0; }\n');
    const argv = ["include-what-you-use", "a.c"];
    sameAsBare(argv, cwd, null, {}, 5);
    nextSecond();
    sameAsBare(argv, cwd, null, {}, 5);
  });
});
