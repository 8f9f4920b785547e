// What an adversarial review of relocatable entries found, each as a regression test with
// the real compilers: with output names and the cwd out of the key, every one of these was a
// wrong output or a file zccache must never replace.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, tempDir } from "../helpers.ts";
import { backdateTree, writeFile } from "../fixtures/relocation/reloc.ts";

afterAll(() => CacheEnv.stopAll());

for (const tool of ["gcc", "clang", "ar", "mkfifo"]) {
  if (!requireTool(tool, "the relocation hardening suite")) throw new Error(`${tool} is required`);
}

function read(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch {
    return null;
  }
}

describe("outputs zccache must not replace", () => {
  test("-o into a fifo is never renamed over, even when an entry for the source exists", () => {
    const c = new CacheEnv();
    writeFile(c.work, "a.c", "int a(void) { return 1; }\n");
    backdateTree(c.work);
    expect(c.zc(["gcc", "-c", "a.c", "-o", "a.o"], { cwd: c.work }).code).toBe(0);
    // Readers drain the fifos, as a shell's `-o >(…)` would. gcc's assembler cannot write an
    // object into a fifo: whatever the compiler makes of it, zccache must do the same and
    // leave the fifo a fifo (a rename would have put a regular file in its place).
    const outcome = (name: string, compile: () => { code: number }): number => {
      execFileSync("mkfifo", [path.join(c.work, name)]);
      const reader = Bun.spawn(["cat", path.join(c.work, name)], { stdout: "ignore" });
      const code = compile().code;
      reader.kill();
      expect(fs.lstatSync(path.join(c.work, name)).isFIFO()).toBe(true);
      return code;
    };
    const b = outcome("bare-sink", () => bare(["gcc", "-c", "a.c", "-o", "bare-sink"], c.work));
    const z = outcome("sink", () => c.zc(["gcc", "-c", "a.c", "-o", "sink"], { cwd: c.work }));
    expect(z).toBe(b);
    expect(c.status().reasons["special-output"]).toBe(1);
  });

  test("-o naming the source fails as bare gcc does and leaves the source alone", () => {
    const c = new CacheEnv();
    const src = writeFile(c.work, "a.c", "int a(void) { return 2; }\n");
    backdateTree(c.work);
    expect(c.zc(["gcc", "-c", "a.c", "-o", "a.o"], { cwd: c.work }).code).toBe(0);
    const before = fs.readFileSync(src);
    const b = bare(["gcc", "-c", "a.c", "-o", "a.c"], c.work);
    const z = c.zc(["gcc", "-c", "a.c", "-o", "a.c"], { cwd: c.work });
    expect(z.code).toBe(b.code);
    expect(b.code).not.toBe(0);
    expect(fs.readFileSync(src).equals(before)).toBe(true);
  });

  test("-MF - writes the depfile to stdout, as bare gcc does", () => {
    const c = new CacheEnv();
    writeFile(c.work, "a.c", "int a(void) { return 3; }\n");
    backdateTree(c.work);
    expect(c.zc(["gcc", "-c", "a.c", "-MD", "-MF", "x.d", "-o", "a.o"], { cwd: c.work }).code).toBe(0);
    const b = bare(["gcc", "-c", "a.c", "-MD", "-MF", "-", "-o", "b.o"], c.work);
    const z = c.zc(["gcc", "-c", "a.c", "-MD", "-MF", "-", "-o", "b.o"], { cwd: c.work });
    expect(z.out).toBe(b.out);
    expect(z.out).toContain("b.o:");
    expect(fs.existsSync(path.join(c.work, "-"))).toBe(false);
  });
});

describe("two checkouts under one base dir", () => {
  test("a symlinked -isystem dir leading elsewhere in each checkout: gcc's real-path header names do not serve the other's object", () => {
    const c = new CacheEnv();
    const top = c.work;
    // gcc names a system header by its real path when that is shorter than the spelling:
    // version 1 lives at a short path (so c1's entry records /tmp/zc-…/v1/y.h), version 2 at
    // a long one (c2's compile reads it through its link).
    const short = tempDir("zc-");
    writeFile(short, "v1/y.h", "#define Y 1\n");
    writeFile(short, "a-much-longer-directory-name-for-version-two/y.h", "#define Y 2\n");
    backdateTree(short);
    for (const [co, target] of [
      ["c1", "v1"],
      ["c2", "a-much-longer-directory-name-for-version-two"],
    ] as const) {
      writeFile(top, `${co}/src/a.c`, "#include <y.h>\nint f(void) { return Y; }\n");
      fs.mkdirSync(path.join(top, co, "build"), { recursive: true });
      fs.mkdirSync(path.join(top, co, "third_party"), { recursive: true });
      fs.symlinkSync(path.join(short, target), path.join(top, co, "third_party", "include"));
    }
    backdateTree(top);
    const argv = ["gcc", "-O2", "-c", "../src/a.c", "-isystem", "../third_party/include", "-o", "a.o"];
    const env = { ZCCACHE_BASE_DIR: top };
    expect(c.zc(argv, { cwd: path.join(top, "c1", "build"), env }).code).toBe(0);
    const two = path.join(top, "c2", "build");
    expect(c.zc(argv, { cwd: two, env }).code).toBe(0);
    const zc = read(path.join(two, "a.o"));
    expect(bare([...argv.slice(0, -1), "bare.o"], two).code).toBe(0);
    expect(zc?.equals(fs.readFileSync(path.join(two, "bare.o")))).toBe(true);
  });

  for (const [name, file, extra] of [
    ["__FILE__ built by token pasting", "pasted.c", []],
    ["__FILE__ from the command line", "cmdline.c", ["-DWHERE=__FILE__"]],
  ] as const) {
    test(`${name}: the second checkout does not get the first one's path length`, () => {
      const c = new CacheEnv();
      const top = c.work;
      for (const co of ["c1", "checkout2"]) {
        writeFile(top, `${co}/src/pasted.c`, "#define CAT(a, b) a##b\nunsigned long n(void) { return sizeof(CAT(__FI, LE__)); }\n");
        writeFile(top, `${co}/src/cmdline.c`, "unsigned long c(void) { return sizeof(WHERE); }\n");
        fs.mkdirSync(path.join(top, co, "build"), { recursive: true });
      }
      backdateTree(top);
      const env = { ZCCACHE_BASE_DIR: top };
      const argv = (co: string, out: string): string[] => ["gcc", "-O2", "-c", path.join(top, co, "src", file), ...extra, "-o", out];
      expect(c.zc(argv("c1", "a.o"), { cwd: path.join(top, "c1", "build"), env }).code).toBe(0);
      const two = path.join(top, "checkout2", "build");
      expect(c.zc(argv("checkout2", "a.o"), { cwd: two, env }).code).toBe(0);
      expect(bare(argv("checkout2", "bare.o"), two).code).toBe(0);
      expect(read(path.join(two, "a.o"))?.equals(fs.readFileSync(path.join(two, "bare.o")))).toBe(true);
    });
  }

  for (const cc of ["gcc", "clang"]) {
    test(`${cc}: depfiles keep '..' as the compiler spelled it and escape a checkout named with ' ', '#' or '$'`, () => {
      const c = new CacheEnv();
      const top = c.work;
      writeFile(top, "shared/y.h", "#define Y 2\n");
      const checkouts = ["c1", "c 2", "c#3", "c$4"];
      for (const co of checkouts) {
        writeFile(top, `${co}/inc/x.h`, "#define X 1\n");
        writeFile(top, `${co}/a.c`, '#include "x.h"\n#include "y.h"\nint f(void) { return X + Y; }\n');
        fs.mkdirSync(path.join(top, co, "build"), { recursive: true });
      }
      backdateTree(top);
      const env = { ZCCACHE_BASE_DIR: top };
      for (const co of checkouts) {
        const cwd = path.join(top, co, "build");
        const argv = [cc, "-c", "../a.c", `-I${cwd}/../inc`, `-I${path.join(top, co)}/../shared`, "-MD", "-o", "a.o"];
        expect(c.zc(argv, { cwd, env }).code).toBe(0);
        fs.renameSync(path.join(cwd, "a.d"), path.join(cwd, "zc.d"));
        expect(bare(argv, cwd).code).toBe(0);
        expect({ co, depfile: fs.readFileSync(path.join(cwd, "zc.d"), "utf8") }).toEqual({
          co,
          depfile: fs.readFileSync(path.join(cwd, "a.d"), "utf8"),
        });
      }
      // Every checkout after the first is served from the first one's entry.
      expect(c.status().hits).toBe(checkouts.length - 1);
    });
  }
});

describe("archives keyed without their name", () => {
  test("ar's 'creating lib2.a' names the archive being created, not the first one", () => {
    const c = new CacheEnv();
    writeFile(c.work, "m.c", "int g(void) { return 0; }\n");
    expect(bare(["gcc", "-c", "m.c", "-o", "m.o"], c.work).code).toBe(0);
    backdateTree(c.work);
    expect(c.zc(["ar", "r", "lib1.a", "m.o"], { cwd: c.work }).code).toBe(0);
    const z = c.zc(["ar", "r", "lib2.a", "m.o"], { cwd: c.work });
    expect(z.err).toContain("creating lib2.a");
    expect(z.err).not.toContain("lib1.a");
  });
});
