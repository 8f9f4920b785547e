import { describe, expect, test } from "bun:test";
import { classifyCc, outputPathFor, sideOutputPath, userDepfilePath } from "./args.ts";

function reasonFor(args: string[], family: "gcc" | "clang" | "emcc"): string {
  const c = classifyCc(args, family);
  return c.kind === "compile" ? "compile" : c.reason;
}

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

  test("preprocessed assembly: .S, gcc's .sx, -x assembler-with-cpp; not -S, side outputs or -v", () => {
    const langs = (args: string[], family: "gcc" | "clang" = "gcc"): string[] | string => {
      const c = classifyCc(args, family);
      return c.kind === "compile" ? c.inv.sources.map((s) => s.language) : c.reason;
    };
    expect(langs(["-c", "a.S"])).toEqual(["assembler-with-cpp"]);
    expect(langs(["-c", "a.sx"])).toEqual(["assembler-with-cpp"]);
    expect(langs(["-c", "a.sx"], "clang")).toBe("unsupported-language");
    expect(langs(["-x", "assembler-with-cpp", "-c", "a.asm"], "clang")).toEqual(["assembler-with-cpp"]);
    expect(langs(["-x", "assembler", "-c", "a.asm"])).toBe("unsupported-language");
    expect(reasonFor(["-c", "a.S"], "emcc")).toBe("unsupported-language");
    expect(langs(["-S", "a.S"])).toBe("too-hard");
    expect(langs(["-c", "a.S", "-gsplit-dwarf"])).toBe("too-hard");
    expect(langs(["-v", "-c", "a.c"])).toBe("verbose-driver");
    expect(langs(["-v", "a.c", "-o", "prog"])).toBe("verbose-driver");
    expect(langs(["-Wp,-v", "-c", "a.c"])).toBe("too-hard");
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

describe("pass-through options are read like the driver's own", () => {
  test("include directories and forced includes through -Wp, -Xpreprocessor and -Xclang", () => {
    const c = classifyCc(["-c", "a.c", "-Wp,-Ip1", "-Wp,-I,p2", "-Xpreprocessor", "-isystem", "-Xpreprocessor", "p3", "-Xclang", "-iquote", "-Xclang", "p4", "-Wp,-include,cfg.h", "-Iinc"]);
    if (c.kind !== "compile") throw new Error(`expected compile, got ${c.kind === "not-cacheable" ? c.detail : ""}`);
    expect(c.inv.passThroughDirs).toEqual({ quote: ["p4"], bracket: ["p1", "p2"], system: ["p3"], after: [] });
    expect(c.inv.includeDirs.bracket).toEqual(["inc"]);
    expect(c.inv.modelArgs).toContain("cfg.h");
  });

  test("what cannot be modelled is refused", () => {
    expect(reason(["-c", "a.c", "-Wp,-MD,a.d"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Wp,-MMD,a.d"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Xclang", "-load", "-Xclang", "p.so"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Xclang", "-include-pch", "-Xclang", "h.pch"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Xclang", "-I"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Wp,-o,x.i"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Wp,b.c"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-Xclang", "-Wp,-Ix"])).toBe("too-hard");
    expect(reason(["-c", "a.c", "-I-"])).toBe("too-hard");
  });

  test("assembler options: a short list of harmless ones, the rest refused", () => {
    expect(reason(["-c", "a.c", "-Wa,--noexecstack", "-Wa,-mrelax-relocations=no", "-Xassembler", "--64", "-Wa,--defsym,X=1"])).toBe("compile");
    for (const bad of [["-Wa,-adhln=a.lst"], ["-Wa,--MD,a.dep"], ["-Wa,-I,inc"], ["-Xassembler", "-alh=x"], ["-Wa,-o,x.o"], ["-Wa,@opts"]]) {
      expect(reason(["-c", "a.c", ...bad])).toBe("too-hard");
    }
  });
});

describe("side files and the client's descriptors", () => {
  test("options that write files we do not restore are refused with their own reason", () => {
    for (const opt of [
      "-fopt-info-vec-missed=v.txt",
      "-fopt-info=all.txt",
      "-ftime-trace",
      "-ftime-report",
      "-fmem-report",
      "-save-stats=obj",
      "-fprofile-note=x.gcno",
      "-fmodules",
      "-fmodule-file=m.pcm",
      "-fprofile-list=l.txt",
    ]) {
      expect([opt, reason(["-c", "a.c", opt])]).toEqual([opt, "side-file"]);
      expect([opt, reason(["-c", "a.c", "-Xclang", opt])]).toEqual([opt, "side-file"]);
    }
    expect(reason(["-c", "a.c", "-mllvm", "-info-output-file=s.txt"])).toBe("side-file");
    expect(reason(["-c", "a.c", "-mllvm", "-inline-threshold=100"])).toBe("compile");
    expect(reason(["-c", "a.c", "-fopt-info-vec"])).toBe("compile");
    expect(reason(["-c", "a.c", "-fopt-info-vec=stdout", "-fopt-info=stderr"])).toBe("compile");
    for (const opt of ["-fdump-tree-all", "-fcallgraph-info", "-fsave-optimization-record", "-save-temps=obj", "-MJ", "-dumpdir"]) {
      expect([opt, reason(["-c", "a.c", opt, "x"])]).not.toEqual([opt, "compile"]);
    }
    const c = classifyCc(["-c", "a.c", "-g", "-gsplit-dwarf=split"]);
    expect(c.kind === "compile" && c.inv.sideOutputs).toEqual(["dwo"]);
  });

  test("sources, forced includes and outputs that are the client's file descriptors run locally", () => {
    expect(reason(["-x", "c", "-c", "/dev/fd/3", "-o", "a.o"])).toBe("fd-input");
    expect(reason(["-x", "c", "-c", "/dev/stdin", "-o", "a.o"])).toBe("fd-input");
    expect(reason(["-c", "/proc/self/fd/4.c"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-include", "/proc/1234/fd/5"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-Wp,-include,/dev/fd/5"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-MD", "-MF", "/dev/stderr"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-o", "/dev/stdout"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-o", "/dev/fd/1"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-o", "fd/1.o"])).toBe("compile");
    expect(reason(["-c", "a.c", "-I/proc/self/cwd/inc"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-imacros", "/dev/stdin"])).toBe("fd-input");
    expect(reason(["-c", "a.c", "-Wp,-I,/proc/thread-self/root/x"])).toBe("fd-input");
  });
});
