// Preprocessed assembly (.S, .sx, -x assembler-with-cpp) is cached like C: its headers come
// from the compiler's depfile, the assembler gcc runs is in the key, and a compile whose
// assembler reads files no depfile names (.include, .incbin) is never stored. `-v` is
// refused as verbose-driver: gcc prints temp file names that differ on every run.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, hasTool, missing, type RunResult } from "../helpers.ts";
import { type Delta, diff, expectSameBytes, expectSameRun, outcomeOf, put, readOrNull, rm } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----

function zcMeasured(args: readonly string[], cwd: string, extraEnv: Record<string, string | undefined> = {}): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd, env: extraEnv });
  return { r, d: diff(before, env.status()) };
}

function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** The object a bare run of `args` writes to `obj` in `dir` (the cached one is put back after). */
function bareObjectOf(dir: string, args: readonly string[], obj: string, extraEnv: Record<string, string | undefined> = {}): Buffer | null {
  const p = path.join(dir, obj);
  const cached = readOrNull(p);
  rm(p);
  const b = bare(args, dir, { ...process.env, ...extraEnv });
  if (b.code !== 0) throw new Error(`bare ${args.join(" ")} failed: ${b.err}`);
  const out = readOrNull(p);
  if (cached !== null) fs.writeFileSync(p, cached);
  return out;
}

/** zccache `args`, expecting `want` ("hit", "miss:new-source", …) and the bare object and output. */
function expectCompile(dir: string, args: readonly string[], obj: string, want: string, extraEnv: Record<string, string | undefined> = {}): Buffer {
  rm(path.join(dir, obj));
  const { r, d } = zcMeasured(args, dir, extraEnv);
  const what = args.join(" ");
  expect({ what, outcome: outcomeOf(d), code: r.code, err: r.err }).toEqual({ what, outcome: want, code: 0, err: "" });
  const got = readOrNull(path.join(dir, obj));
  expectSameBytes(got, bareObjectOf(dir, args, obj, extraEnv), `${what}: ${obj}`);
  return got as Buffer;
}

const ASM = `#include "defs.h"
\t.data
\t.globl val
val:\t.long VAL
#ifdef FOO
\t.long FOO
#endif
`;

// ---- suites ----

for (const cc of ["gcc", "clang"]) {
  describe(`${cc} preprocessed assembly`, () => {
    const present = hasTool(cc);
    if (!present) missing(`${cc} is not installed`, `${cc} assembler tests`);
    const t = present ? test : test.skip;

    t(".S with a header and -D: miss, hit, the bare object; header and -D edits miss", () => {
      const dir = scenario(`${cc}-S`);
      put(dir, "defs.h", "#define VAL 42\n");
      put(dir, "a.S", ASM);
      const args = [cc, "-c", "a.S", "-DFOO=3", "-o", "a.o"];
      const first = expectCompile(dir, args, "a.o", "miss:new-source");
      expect(expectCompile(dir, args, "a.o", "hit").equals(first)).toBe(true);
      // A longer value: the stat changes, the header is hashed again.
      put(dir, "defs.h", "#define VAL 4242\n");
      const edited = expectCompile(dir, args, "a.o", "miss:inputs-changed");
      expect(edited.equals(first)).toBe(false);
      expectCompile(dir, args, "a.o", "hit");
      const otherD = [cc, "-c", "a.S", "-DFOO=4", "-o", "a.o"];
      expect(expectCompile(dir, otherD, "a.o", "miss:new-source").equals(edited)).toBe(false);
      expectCompile(dir, otherD, "a.o", "hit");
      expectCompile(dir, args, "a.o", "hit");
    });

    t(".sx (gcc) and -x assembler-with-cpp are cached the same way", () => {
      const dir = scenario(`${cc}-sx`);
      put(dir, "defs.h", "#define VAL 7\n");
      put(dir, "b.sx", ASM);
      put(dir, "c.asm", ASM);
      const sx = [cc, "-c", "b.sx", "-DFOO=1", "-o", "b.o"];
      if (cc === "gcc") {
        expectCompile(dir, sx, "b.o", "miss:new-source");
        expectCompile(dir, sx, "b.o", "hit");
      } else {
        // clang 14 takes .sx for a linker input: left to the compiler, as before.
        expect(outcomeOf(zcMeasured(sx, dir).d)).toBe("uncacheable:unsupported-language");
      }
      const x = [cc, "-x", "assembler-with-cpp", "-c", "c.asm", "-DFOO=1", "-o", "c.o"];
      expectCompile(dir, x, "c.o", "miss:new-source");
      expectCompile(dir, x, "c.o", "hit");
    });

    for (const directive of [".include", ".incbin"]) {
      t(`${directive}: never stored, an edit of the file it reads is compiled`, async () => {
        const dir = scenario(`${cc}-${directive.slice(1)}`);
        put(dir, "defs.h", "#define VAL 1\n");
        const readFile = directive === ".include" ? "part.s" : "blob.bin";
        put(dir, readFile, directive === ".include" ? "\t.long 11\n" : "AAAA");
        // Pasted together by the preprocessor: no file's own text names the directive, only
        // the preprocessed text the assembler reads does.
        const [head, tail] = directive === ".include" ? ["inc", "lude"] : ["inc", "bin"];
        put(dir, "d.S", `#include "defs.h"\n#define CAT(a,b) a##b\n#define DOT_(x) .x\n\t.data\nval:\t.long VAL\n\tDOT_(CAT(${head},${tail})) "${readFile}"\n`);
        const args = [cc, "-c", "d.S", "-o", "d.o"];
        expectCompile(dir, args, "d.o", "uncacheable:too-hard");
        expectCompile(dir, args, "d.o", "uncacheable:too-hard");
        // Past the racy window, a same-size edit leaves nothing but the content to notice.
        await Bun.sleep(2_200);
        put(dir, readFile, directive === ".include" ? "\t.long 22\n" : "BBBB");
        const after = expectCompile(dir, args, "d.o", "uncacheable:too-hard");
        expect(after.includes(Buffer.from(directive === ".include" ? [22, 0, 0, 0] : "BBBB"))).toBe(true);
      });
    }

    for (const spelling of ["whole", "split"] as const) {
      t(`inline asm .include/.incbin in C (${spelling} literal): never stored, an edit of the file it reads is compiled`, async () => {
        const dir = scenario(`${cc}-inline-${spelling}`);
        put(dir, "part.s", "\t.long 11\n");
        put(dir, "blob.bin", "AAAA");
        const inc = spelling === "whole" ? '".include \\"part.s\\"\\n"' : '".incl" "ude \\"part.s\\"\\n"';
        const bin = spelling === "whole" ? '".incbin \\"blob.bin\\"\\n"' : '".inc"\n  "bin \\"blob.bin\\"\\n"';
        put(dir, "t.c", `__asm__(".data\\n" ${inc} ${bin});\nint t_fn(void) { return 1; }\n`);
        const args = [cc, "-c", "t.c", "-o", "t.o"];
        expectCompile(dir, args, "t.o", "uncacheable:too-hard");
        await Bun.sleep(2_200);
        put(dir, "part.s", "\t.long 22\n");
        put(dir, "blob.bin", "BBBB");
        const after = expectCompile(dir, args, "t.o", "uncacheable:too-hard");
        expect(after.includes(Buffer.from([22, 0, 0, 0]))).toBe(true);
        expect(after.includes(Buffer.from("BBBB"))).toBe(true);
      });
    }

    t("-S on assembler input and plain .s stay uncached", () => {
      const dir = scenario(`${cc}-other`);
      put(dir, "defs.h", "#define VAL 1\n");
      put(dir, "a.S", ASM);
      put(dir, "p.s", "\t.data\n\t.long 5\n");
      const s = zcMeasured([cc, "-S", "a.S", "-o", "a.out.s"], dir);
      expect(outcomeOf(s.d)).toBe("uncacheable:too-hard");
      rm(path.join(dir, "p.o"));
      const plain = zcMeasured([cc, "-c", "p.s", "-o", "p.o"], dir);
      expect({ outcome: outcomeOf(plain.d), code: plain.r.code }).toEqual({ outcome: "uncacheable:unsupported-language", code: 0 });
    });

    t("-v is counted as verbose-driver and prints what the compiler prints", () => {
      const dir = scenario(`${cc}-v`);
      put(dir, "x.c", "int f(void) { return 1; }\n");
      const args = [cc, "-v", "-c", "x.c", "-o", "x.o"];
      rm(path.join(dir, "x.o"));
      const { r, d } = zcMeasured(args, dir);
      expect(outcomeOf(d)).toBe("uncacheable:verbose-driver");
      expect(d.entries).toBe(0);
      const z = readOrNull(path.join(dir, "x.o"));
      expectSameBytes(z, bareObjectOf(dir, args, "x.o"), `${cc} -v: x.o`);
      const b = bare(args, dir);
      // gcc names a fresh temp file on every run; the rest of what it prints is the same.
      // (COLLECT_GCC: the local run names the compiler by the path it resolved; see the report.)
      const templess = (s: string): string => s.replace(/\/[^ ]*\/cc[A-Za-z0-9]{6}\.s/g, "TMP").replace(/^COLLECT_GCC=.*$/m, "COLLECT_GCC");
      if (cc === "gcc") {
        expect(r.err).toContain(" as ");
        expect(templess(r.err)).toBe(templess(b.err));
      } else {
        expectSameRun(r, b, `${cc} -v`);
      }
    });
  });
}

describe("the assembler gcc runs", () => {
  const present = hasTool("gcc");
  if (!present) missing("gcc is not installed", "gcc assembler identity tests");
  const t = present ? test : test.skip;

  t("another `as` first on PATH changes the key; -B stays refused", () => {
    const dir = scenario("gcc-as");
    put(dir, "defs.h", "#define VAL 3\n");
    put(dir, "a.S", ASM);
    const wrapDir = path.join(dir, "wrap");
    // A different program (its bytes are hashed) that assembles the same way.
    put(dir, "wrap/as", `#!/bin/sh\n# wrapper\nexec ${Bun.which("as") ?? "/usr/bin/as"} "$@"\n`);
    fs.chmodSync(path.join(wrapDir, "as"), 0o755);
    const args = ["gcc", "-c", "a.S", "-o", "a.o"];
    const wrapped = { PATH: `${wrapDir}:${process.env.PATH ?? ""}` };
    expectCompile(dir, args, "a.o", "miss:new-source");
    expectCompile(dir, args, "a.o", "hit");
    expectCompile(dir, args, "a.o", "miss:new-source", wrapped);
    expectCompile(dir, args, "a.o", "hit", wrapped);
    // Its content is what counts: a changed wrapper misses again.
    put(dir, "wrap/as", `#!/bin/sh\n# wrapper, edited\nexec ${Bun.which("as") ?? "/usr/bin/as"} "$@"\n`);
    expectCompile(dir, args, "a.o", "miss:new-source", wrapped);
    const withB = ["gcc", `-B${wrapDir}/`, "-c", "a.S", "-o", "a.o"];
    expectCompile(dir, withB, "a.o", "uncacheable:too-hard");
  });
});
