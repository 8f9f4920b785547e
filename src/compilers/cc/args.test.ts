import { describe, expect, test } from "bun:test";
import { classifyCc, outputPathFor, sideOutputPath, userDepfilePath } from "./args.ts";

function reason(args: string[]): string {
  const c = classifyCc(args);
  return c.kind === "compile" ? "compile" : c.reason;
}

describe("classifyCc", () => {
  test("plain compiles", () => {
    const c = classifyCc(["-O2", "-Wall", "-Iinc", "-I", "inc2", "-DX=1", "-c", "src/a.c", "-o", "obj/a.o"]);
    expect(c.kind).toBe("compile");
    if (c.kind !== "compile") return;
    expect(c.inv.sources.map((s) => [s.path, s.language])).toEqual([["src/a.c", "c"]]);
    expect(c.inv.output).toBe("obj/a.o");
    expect(c.inv.includeDirs.bracket).toEqual(["inc", "inc2"]);
    expect(c.inv.mode).toBe("object");
  });

  test("languages from extension and -x", () => {
    const c = classifyCc(["-c", "a.cpp", "-x", "c++", "b.c", "-x", "none", "c.c"]);
    if (c.kind !== "compile") throw new Error("expected compile");
    expect(c.inv.sources.map((s) => s.language)).toEqual(["c++", "c++", "c"]);
  });

  test("not cacheable, each with its reason", () => {
    expect(reason(["-E", "a.c"])).toBe("preprocess-only");
    expect(reason(["-M", "-c", "a.c"])).toBe("preprocess-only");
    expect(reason(["-x", "c", "-c", "-"])).toBe("stdin-input");
    expect(reason(["-save-temps", "-c", "a.c"])).toBe("save-temps");
    expect(reason(["-save-temps=obj", "-c", "a.c"])).toBe("save-temps");
    expect(reason(["a.o", "b.o", "-o", "prog"])).toBe("link");
    expect(reason(["-c", "a.c", "--frobnicate"])).toBe("unknown-option");
    expect(reason(["-c", "a.c", "-arch", "x86_64", "-arch", "arm64"])).toBe("multiple-arch");
    expect(reason(["-c"])).toBe("no-input");
    expect(reason(["-c", "a.s"])).toBe("unsupported-language");
    expect(reason(["-c", "a.c", "-fprofile-use=x.profdata"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Wp,-MD,a.d"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "b.c", "-o", "x.o"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-o"])).toBe("too-hard");
  });

  test("common flag families are understood", () => {
    expect(reason(["-c", "a.c", "-fPIC", "-Wextra", "-march=native", "-O3", "-g3", "-std=gnu11", "-pthread"])).toBe("compile");
    expect(reason(["-c", "a.c", "-Wp,-D_FORTIFY_SOURCE=2", "-include", "cfg.h", "-isystem", "/opt/inc"])).toBe("compile");
  });

  test("joined and separate option arguments are not mistaken for inputs", () => {
    const c = classifyCc(["-c", "-MF", "dep.c", "-MT", "t.c", "a.c", "-include", "pre.c"]);
    if (c.kind !== "compile") throw new Error("expected compile");
    expect(c.inv.sources.map((s) => s.path)).toEqual(["a.c"]);
    expect(c.inv.deps.file).toBe("dep.c");
  });

  test("output, depfile and side output names follow gcc", () => {
    const c = classifyCc(["-c", "src/a.c", "-MD", "-gsplit-dwarf", "--coverage"]);
    if (c.kind !== "compile") throw new Error("expected compile");
    const src = c.inv.sources[0];
    if (src === undefined) throw new Error("no source");
    expect(outputPathFor(c.inv, src)).toBe("a.o");
    expect(userDepfilePath(c.inv, src)).toBe("a.d");
    expect([...c.inv.sideOutputs].sort()).toEqual(["dwo", "gcno"]);
    expect(sideOutputPath("obj/a.o", "dwo")).toBe("obj/a.dwo");
    const o = classifyCc(["-c", "a.c", "-MMD", "-o", "obj/x.o"]);
    if (o.kind !== "compile" || o.inv.sources[0] === undefined) throw new Error("expected compile");
    expect(userDepfilePath(o.inv, o.inv.sources[0])).toBe("obj/x.d");
  });
});
