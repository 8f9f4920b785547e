// Regression cases for what the compiler prints and writes that a replay must reproduce:
// colour and hyperlinks decided by the terminal, outputs that are symlinks, side files we
// do not restore. Each case compares zccache with the bare compiler.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, hasTool, run, ZCCACHE } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

describe("colour and hyperlinks as the compiler decides them on a terminal", () => {
  const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  /** Runs argv with stdio on a fresh pseudo-terminal (util-linux `script`); what the terminal got. */
  function onPty(argv: readonly string[], cwd: string, env: Record<string, string | undefined>, columns = 0): Buffer {
    const cmd = `${columns > 0 ? `stty cols ${columns}; ` : ""}${argv.map(quote).join(" ")}`;
    const r = run(["script", "-qec", cmd, "/dev/null"], { cwd, env: { ...env, SHELL: "/bin/sh" } });
    if (r.code !== 0) throw new Error(`script failed: ${r.err}`);
    return r.stdout;
  }

  const cases: [string, string, Record<string, string | undefined>, string[]][] = [
    ["gcc", "TERM=dumb", { TERM: "dumb" }, []],
    ["gcc", "TERM unset", { TERM: undefined }, []],
    ["gcc", "TERM=xterm (colour, no links)", { TERM: "xterm" }, []],
    ["gcc", "TERM=xterm-256color (colour and links)", { TERM: "xterm-256color" }, []],
    ["gcc", "TERM=xterm COLORTERM=truecolor (links)", { TERM: "xterm", COLORTERM: "truecolor" }, []],
    ["gcc", "GCC_COLORS empty", { TERM: "xterm", GCC_COLORS: "" }, []],
    ["gcc", "explicit -fdiagnostics-color=never on a linking terminal", { TERM: "screen" }, ["-fdiagnostics-color=never"]],
    ["clang", "TERM=dumb", { TERM: "dumb" }, []],
    ["clang", "TERM=vt100 (no colours in terminfo)", { TERM: "vt100" }, []],
    ["clang", "TERM=xterm", { TERM: "xterm" }, []],
  ];
  for (const [cc, name, env, extra] of cases) {
    test(`${cc}, ${name}: a warning is printed as the bare compiler prints it, miss and hit`, () => {
      if (!hasTool(cc)) throw new Error(`${cc} is required`);
      const c = new CacheEnv();
      c.write("warn.c", "int w(void) { int unused; return 0; }\n");
      const argv = [cc, "-Wall", "-O1", ...extra, "-c", "warn.c", "-o", "warn.o"];
      const e = { ...c.env, ...env };
      const expected = onPty(argv, c.work, e);
      const bareObject = c.read("warn.o");
      for (let i = 0; i < 2; i++) {
        fs.rmSync(path.join(c.work, "warn.o"));
        const got = onPty([ZCCACHE, ...argv], c.work, e);
        expect(JSON.stringify(got.toString("latin1"))).toBe(JSON.stringify(expected.toString("latin1")));
        expect(c.read("warn.o").equals(bareObject)).toBe(true);
      }
      expect(c.status().hits).toBe(1);
    });
  }

  for (const [cc, env, columns] of [
    ["gcc", { TERM: "dumb" }, 40],
    ["gcc", { TERM: "xterm", COLUMNS: "50" }, 0],
    ["clang", { TERM: "dumb", COLUMNS: "40" }, 0],
    ["clang", { TERM: "xterm", COLUMNS: "45" }, 90],
  ] as const) {
    test(`${cc} on a terminal ${columns || env.COLUMNS} columns wide: long diagnostics are cut or wrapped as bare`, () => {
      if (!hasTool(cc)) throw new Error(`${cc} is required`);
      const c = new CacheEnv();
      c.write("long.c", "int w(void) { int unused_variable_with_a_long_name_here = 1; int another_long_one = 2; return 0; }\n");
      const argv = [cc, "-Wall", "-c", "long.c", "-o", "long.o"];
      const e = { ...c.env, ...env };
      const expected = onPty(argv, c.work, e, columns);
      const wide = onPty(argv, c.work, { ...e, COLUMNS: undefined }, 300);
      expect(expected.equals(wide)).toBe(false);
      for (let i = 0; i < 2; i++) {
        const got = onPty([ZCCACHE, ...argv], c.work, e, columns);
        expect(JSON.stringify(got.toString("latin1"))).toBe(JSON.stringify(expected.toString("latin1")));
      }
      // And a wide terminal is not served the narrow one's diagnostics.
      const got = onPty([ZCCACHE, ...argv], c.work, { ...e, COLUMNS: undefined }, 300);
      expect(JSON.stringify(got.toString("latin1"))).toBe(JSON.stringify(wide.toString("latin1")));
      // gcc cannot cut lines on a pipe: those compiles are handed back to the client.
      const st = c.status();
      if (cc === "gcc") expect(st.reasons["terminal-width"]).toBe(2);
      else expect(st.hits).toBe(1);
    });
  }

  test("gcc on a narrow terminal with short diagnostics still caches", () => {
    const c = new CacheEnv();
    c.write("s.c", "int w(void) { int u; return 0; }\n");
    const argv = ["gcc", "-Wall", "-c", "s.c", "-o", "s.o"];
    const e = { ...c.env, TERM: "dumb" };
    const expected = onPty(argv, c.work, e, 60);
    for (let i = 0; i < 2; i++) {
      const got = onPty([ZCCACHE, ...argv], c.work, e, 60);
      expect(JSON.stringify(got.toString("latin1"))).toBe(JSON.stringify(expected.toString("latin1")));
    }
    expect(c.status().hits).toBe(1);
  });

  test("gcc with debug info on a terminal that gets links: run as the compiler would, counted", () => {
    const c = new CacheEnv();
    c.write("warn.c", "int w(void) { int unused; return 0; }\n");
    const argv = ["gcc", "-Wall", "-g", "-c", "warn.c", "-o", "warn.o"];
    const e = { ...c.env, TERM: "xterm-256color" };
    const expected = onPty(argv, c.work, e);
    const bareObject = c.read("warn.o");
    expect(expected.includes(Buffer.from("\x1b]8;;"))).toBe(true);
    fs.rmSync(path.join(c.work, "warn.o"));
    const got = onPty([ZCCACHE, ...argv], c.work, e);
    expect(JSON.stringify(got.toString("latin1"))).toBe(JSON.stringify(expected.toString("latin1")));
    expect(c.read("warn.o").equals(bareObject)).toBe(true);
    expect(c.status().reasons["terminal-urls"]).toBe(1);
  });
});

describe("outputs that are symlinks are written as the compiler writes them", () => {
  /** Object and depfile as links into real/, one of each dangling, as a build tree may have them. */
  function layout(dir: string): void {
    fs.rmSync(path.join(dir, "real"), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "real"));
    for (const f of ["l.o", "l.d", "dang.o", "dang.d"]) fs.rmSync(path.join(dir, f), { force: true });
    fs.writeFileSync(path.join(dir, "real/l.o"), "old object\n");
    fs.writeFileSync(path.join(dir, "real/l.d"), "old depfile\n");
    fs.symlinkSync("real/l.o", path.join(dir, "l.o"));
    fs.symlinkSync("real/l.d", path.join(dir, "l.d"));
    fs.symlinkSync("real/none.o", path.join(dir, "dang.o"));
    fs.symlinkSync("real/none.d", path.join(dir, "dang.d"));
  }

  /** Every entry of the tree: a link and where it points, or a file and its bytes. */
  function state(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const rel of ["l.o", "l.d", "dang.o", "dang.d", ...fs.readdirSync(path.join(dir, "real")).map((n) => `real/${n}`)]) {
      const p = path.join(dir, rel);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined) out[rel] = "absent";
      else if (st.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else out[rel] = `file ${fs.readFileSync(p).toString("base64")}`;
    }
    return out;
  }

  for (const cc of ["gcc", "clang"]) {
    test(`${cc}: -o and -MF through symlinks, existing and dangling, on a miss and on a hit`, () => {
      if (!hasTool(cc)) throw new Error(`${cc} is required`);
      const c = new CacheEnv();
      c.write("l.c", "int l(void) { return 5; }\n");
      const compiles = [
        [cc, "-O1", "-MD", "-MF", "l.d", "-c", "l.c", "-o", "l.o"],
        [cc, "-O1", "-MD", "-MF", "dang.d", "-c", "l.c", "-o", "dang.o"],
      ];
      layout(c.work);
      for (const argv of compiles) expect(bare(argv, c.work, c.env).code).toBe(0);
      const expected = state(c.work);
      for (let i = 0; i < 2; i++) {
        layout(c.work);
        for (const argv of compiles) expect(c.zc(argv).code).toBe(0);
        expect(state(c.work)).toEqual(expected);
      }
      // dang.o shares l.o's entry (output names are not in the key): every compile but the
      // first is a hit, each written through its own links.
      expect(c.status().hits).toBe(3);
    });
  }
});

describe("files the compiler writes beside the object that a hit would not restore", () => {
  const families: [string, string[], string[]][] = [
    ["gcc -fopt-info-…=FILE", ["gcc", "-O2", "-fopt-info-all=opt.txt"], ["opt.txt"]],
    ["gcc -Xassembler -adhln=FILE", ["gcc", "-O1", "-Xassembler", "-adhln=s.lst"], ["s.lst"]],
    ["gcc -Wa,--MD,FILE", ["gcc", "-O1", "-Wa,--MD,s.adep"], ["s.adep"]],
    ["gcc -Wp,-MD,FILE", ["gcc", "-O1", "-Wp,-MD,s.pdep"], ["s.pdep"]],
    ["gcc -fdump-tree-original", ["gcc", "-O1", "-fdump-tree-original"], []],
    ["gcc -fcallgraph-info", ["gcc", "-O1", "-fcallgraph-info"], ["s.ci"]],
    ["clang -ftime-trace", ["clang", "-O1", "-ftime-trace"], ["s.json"]],
    ["clang -save-stats=obj", ["clang", "-O1", "-save-stats=obj"], ["s.stats"]],
    ["clang -Xclang -ftime-trace", ["clang", "-O1", "-Xclang", "-ftime-trace"], []],
  ];
  for (const [name, cmd, files] of families) {
    test(`${name}: run as the compiler, never from the cache`, () => {
      const c = new CacheEnv();
      c.write("s.c", "int s(int *p, int n) { int t = 0; for (int i = 0; i < n; i++) t += p[i]; return t; }\n");
      const argv = [...cmd, "-c", "s.c", "-o", "s.o"];
      expect(bare(argv, c.work, c.env).code).toBe(0);
      for (const f of files) expect(fs.existsSync(path.join(c.work, f))).toBe(true);
      const before = c.status();
      for (let i = 0; i < 2; i++) {
        for (const f of files) fs.rmSync(path.join(c.work, f), { force: true });
        expect(c.zc(argv).code).toBe(0);
        // The side file is there after every compile, as it is after a bare one.
        for (const f of files) expect(fs.existsSync(path.join(c.work, f))).toBe(true);
      }
      const after = c.status();
      expect(after.hits).toBe(before.hits);
      expect(after.uncacheable - before.uncacheable).toBe(2);
    });
  }
});
