// scripts/build.sh on a machine without a C compiler: one line says so, and the output's
// zccache is the TypeScript program itself (no launcher, no zccache-core beside it).
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, requireTool, run, tempDir, ZCCACHE } from "../helpers.ts";
import { hasGlibc, hasInterpreter } from "../fixtures/elf.ts";

const out = tempDir("zc-build-nocc-");
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test("without cc the build says so once and installs the TypeScript program as zccache", () => {
  // Leftovers of an earlier build with cc must not survive next to the TS program.
  fs.writeFileSync(path.join(out, "zccache-core"), "stale");
  const r = run(["bash", path.join(REPO_ROOT, "scripts", "build.sh"), out], { env: { ...process.env, CC: "no-such-cc-zccache" } });
  if (r.code !== 0) throw new Error(`build.sh failed:\n${r.out}${r.err}`);
  expect(r.out.split("\n").filter((l) => l.includes("no C compiler"))).toHaveLength(1);
  expect(fs.readdirSync(out).sort()).toEqual(["zccache"]);
  const v = run([path.join(out, "zccache"), "version"]);
  expect(v.code).toBe(0);
  expect(v.out).toStartWith("zccache ");
  expect(fs.statSync(path.join(out, "zccache")).size).toBeGreaterThan(1 << 20);
});


const dynamicOut = tempDir("zc-build-dynamic-");
afterAll(() => fs.rmSync(dynamicOut, { recursive: true, force: true }));

test("the launcher and the guard are linked statically where the C library allows it", () => {
  // gcc prints the bare name back when it has no static C library to offer.
  const libc = run(["cc", "-print-file-name=libc.a"]).out.trim();
  const staticLibc = path.isAbsolute(libc) && fs.existsSync(libc);
  const dist = path.dirname(ZCCACHE);
  for (const name of ["zccache", "zccache-pdeathsig"]) expect(`${name}: ${hasInterpreter(path.join(dist, name))}`).toBe(`${name}: ${!staticLibc}`);
});

test("a C compiler that cannot link statically still gives a working dynamic launcher", () => {
  // A cc that refuses every static link, as one without a static C library does.
  const wrapper = path.join(dynamicOut, "cc-no-static");
  fs.writeFileSync(wrapper, '#!/bin/sh\nfor a; do case "$a" in -static*) echo "cannot find -lc" >&2; exit 1;; esac; done\nexec cc "$@"\n', { mode: 0o755 });
  const out = path.join(dynamicOut, "dist");
  const r = run(["bash", path.join(REPO_ROOT, "scripts", "build.sh"), out], { env: { ...process.env, CC: wrapper, ZCCACHE_BUILD_ASAN: "0" } });
  if (r.code !== 0) throw new Error(`build.sh failed:\n${r.out}${r.err}`);
  expect(r.out).toContain("dynamic link");
  expect(r.err).not.toContain("cannot find");
  for (const name of ["zccache", "zccache-pdeathsig"]) expect(hasInterpreter(path.join(out, name))).toBe(true);
  const v = run([path.join(out, "zccache"), "version"]);
  expect(v.code).toBe(0);
  expect(v.out).toStartWith("zccache ");
});

const muslOut = tempDir("zc-build-musl-");
afterAll(() => fs.rmSync(muslOut, { recursive: true, force: true }));


test("with musl-gcc installed the launcher and the guard are static musl programs; ZCCACHE_BUILD_MUSL=0 keeps cc's C library", () => {
  if (!requireTool("musl-gcc", "the musl launcher build")) return;
  const dist = path.dirname(ZCCACHE);
  // The build under test (npm run build, CC unset) chose musl.
  for (const name of ["zccache", "zccache-pdeathsig"]) {
    const f = path.join(dist, name);
    expect({ name, interp: hasInterpreter(f), glibc: hasGlibc(f) }).toEqual({ name, interp: false, glibc: false });
  }
  // The sanitizer twin is always cc's (the sanitizers need glibc): glibc's loader, not musl's.
  const asan = fs.readFileSync(path.join(dist, "zccache-asan"));
  expect({ glibcLoader: asan.includes("ld-linux"), muslLoader: asan.includes("ld-musl") }).toEqual({ glibcLoader: true, muslLoader: false });

  const env = { ...process.env, CC: undefined, ZCCACHE_BUILD_ASAN: "0" };
  for (const [musl, want] of [
    ["1", "static link, musl"],
    ["0", "static-pie link"],
  ] as const) {
    const out = path.join(muslOut, `musl-${musl}`);
    const r = run(["bash", path.join(REPO_ROOT, "scripts", "build.sh"), out], { env: { ...env, ZCCACHE_BUILD_MUSL: musl } });
    if (r.code !== 0) throw new Error(`build.sh failed:\n${r.out}${r.err}`);
    expect(r.out).toContain(`(native launcher, ${want}; guard ${want})`);
    for (const name of ["zccache", "zccache-pdeathsig"]) {
      const f = path.join(out, name);
      expect({ musl, name, interp: hasInterpreter(f), glibc: hasGlibc(f) }).toEqual({ musl, name, interp: false, glibc: musl === "0" });
    }
    const v = run([path.join(out, "zccache"), "version"]);
    expect(v.code).toBe(0);
    expect(v.out).toStartWith("zccache ");
  }
});
