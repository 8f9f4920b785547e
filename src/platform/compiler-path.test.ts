import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findCompiler, isCacheWrapperName, isReentered, REENTERED_ENV, skipRuleFor, withReentryMarker } from "./compiler-path.ts";

const base = fs.mkdtempSync(path.join(os.tmpdir(), "zc-cpath-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

function exe(p: string, content: string): string {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content, { mode: 0o755 });
  return p;
}

function idOf(p: string): string {
  const st = fs.statSync(p);
  return `${st.dev}:${st.ino}:${st.size}`;
}

describe("the wrapper rule", () => {
  test("ccache's name test, extended to sccache", () => {
    for (const n of ["ccache", "ccache-4.7", "sccache", "sccache.exe"]) expect(isCacheWrapperName(n)).toBe(true);
    for (const n of ["gcc", "fooccache", "zccache", "ccache_wrapper"]) expect(isCacheWrapperName(n)).toBe(false);
  });

  test("skips our symlinks, hard links and byte copies, and ccache links; finds the compiler after them", () => {
    const self = exe(path.join(base, "self", "zccache"), "#!/bin/sh\n# pretend zccache\nexit 99\n");
    const a = path.join(base, "a");
    fs.mkdirSync(a);
    fs.symlinkSync(self, path.join(a, "cc"));
    fs.mkdirSync(path.join(base, "b"));
    fs.linkSync(self, path.join(base, "b", "cc"));
    exe(path.join(base, "c", "cc"), fs.readFileSync(self, "utf8"));
    // Same size, different bytes: a real compiler, not a copy of us.
    exe(path.join(base, "s", "cc"), fs.readFileSync(self, "utf8").replace("pretend", "realize"));
    const wrapperBin = exe(path.join(base, "w", "bin", "ccache"), "#!/bin/sh\nexit 98\n");
    fs.mkdirSync(path.join(base, "w", "lib"));
    fs.symlinkSync(wrapperBin, path.join(base, "w", "lib", "cc"));
    const dirs = ["a", "b", "c", "w/lib", "s"].map((d) => path.join(base, d));
    const rule = skipRuleFor([self], {});
    expect(findCompiler("cc", "/", dirs.join(":"), rule)).toBe(path.join(base, "s", "cc"));
    // Without a rule: plain execvp order.
    expect(findCompiler("cc", "/", dirs.join(":"), null)).toBe(path.join(base, "a", "cc"));
    // Only zccache itself skipped when ccache links are wanted as compilers.
    expect(findCompiler("cc", "/", dirs.slice(3).join(":"), skipRuleFor([self], {}, false))).toBe(path.join(base, "w", "lib", "cc"));
  });

  test("executables named in the marker are skipped as well", () => {
    const other = exe(path.join(base, "m", "cc"), "#!/bin/sh\nexit 0\n");
    const real = exe(path.join(base, "n", "cc"), "#!/bin/sh\nexit 1\n");
    const self = exe(path.join(base, "m2", "zccache"), "#!/bin/sh\n");
    const pathVar = [path.dirname(other), path.dirname(real)].join(":");
    expect(findCompiler("cc", "/", pathVar, skipRuleFor([self], {}))).toBe(other);
    expect(findCompiler("cc", "/", pathVar, skipRuleFor([self], { [REENTERED_ENV]: idOf(other) }))).toBe(real);
  });
});

describe("the re-entry marker", () => {
  test("names each zccache on the chain once, and is bounded", () => {
    const one = exe(path.join(base, "z1"), "1");
    const two = exe(path.join(base, "z2"), "22");
    const e1 = withReentryMarker({ PATH: "/bin", GONE: undefined }, one);
    expect(e1).toEqual({ PATH: "/bin", [REENTERED_ENV]: idOf(one) });
    expect(isReentered(e1)).toBe(true);
    expect(isReentered({})).toBe(false);
    expect(withReentryMarker(e1, one)[REENTERED_ENV]).toBe(idOf(one));
    expect(withReentryMarker(e1, two)[REENTERED_ENV]).toBe(`${idOf(one)},${idOf(two)}`);
    let env: Record<string, string> = { [REENTERED_ENV]: Array.from({ length: 40 }, (_, i) => `1:${i}:1`).join(",") };
    env = withReentryMarker(env, one);
    expect(env[REENTERED_ENV]?.split(",").length).toBe(16);
    expect(env[REENTERED_ENV]?.endsWith(idOf(one))).toBe(true);
  });
});
