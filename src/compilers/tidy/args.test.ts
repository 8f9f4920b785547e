import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { analyzerFamily, compilerFamily } from "../family.ts";
import { classifyAnalysis } from "./args.ts";
import { configSearchDirs, mappingFileClosure } from "./config-files.ts";

test("clang-tidy and include-what-you-use are recognised before any compiler", () => {
  expect(analyzerFamily("clang-tidy", "clang-tidy")).toBe("clang-tidy");
  expect(analyzerFamily("clang-tidy-14", "clang-tidy")).toBe("clang-tidy");
  expect(analyzerFamily("include-what-you-use", "include-what-you-use")).toBe("iwyu");
  expect(analyzerFamily("clang", "clang-14")).toBeNull();
  expect(analyzerFamily("clang-tidy-wrapper.sh", "x")).toBeNull();
  expect(compilerFamily("clang-tidy", "clang-tidy")).toBeNull();
});

function reason(tool: "clang-tidy" | "iwyu", args: string[]): string {
  const c = classifyAnalysis(tool, args, "/w");
  return c.kind === "analysis" ? "analysis" : c.reason;
}

test("clang-tidy: CMake's form, the compiler word dropped and the source kept once", () => {
  const c = classifyAnalysis("clang-tidy", ["--checks=-*,bugprone-*", "--extra-arg=-DX", "src/a.c", "--", "/usr/bin/cc", "-Iinc", "-o", "a.o", "-c", "src/a.c"], "/w");
  expect(c.kind).toBe("analysis");
  if (c.kind !== "analysis") return;
  expect(c.inv.source).toBe("src/a.c");
  expect(c.inv.compileArgs).toEqual(["-Iinc", "-o", "a.o", "-c", "src/a.c", "-DX"]);
  expect(c.inv.readsDirConfig).toBe(true);
  const direct = classifyAnalysis("clang-tidy", ["-extra-arg-before", "-DY", "a.c", "--config-file", "t.yaml", "--", "-Iinc"], "/w");
  expect(direct.kind === "analysis" && direct.inv.compileArgs).toEqual(["-DY", "-Iinc", "a.c"]);
  expect(direct.kind === "analysis" && direct.inv.configFile).toBe("t.yaml");
  // The same file spelled absolute before "--" and relative in the compile.
  const spelled = classifyAnalysis("clang-tidy", ["/w/src/a.c", "--", "cc", "-c", "src/a.c"], "/w");
  expect(spelled.kind === "analysis" && spelled.inv.compileArgs).toEqual(["-c", "src/a.c"]);
});

test("clang-tidy: fix-it runs, queries and what we do not follow are refused with a reason", () => {
  expect(reason("clang-tidy", ["-fix", "a.c", "--"])).toBe("side-file");
  expect(reason("clang-tidy", ["--fix-errors", "a.c", "--"])).toBe("side-file");
  expect(reason("clang-tidy", ["--fix-notes", "a.c", "--"])).toBe("side-file");
  expect(reason("clang-tidy", ["--export-fixes=f.yaml", "a.c", "--"])).toBe("side-file");
  expect(reason("clang-tidy", ["-export-fixes", "f.yaml", "a.c", "--"])).toBe("side-file");
  expect(reason("clang-tidy", ["--list-checks"])).toBe("info-query");
  expect(reason("clang-tidy", ["--version"])).toBe("info-query");
  expect(reason("clang-tidy", ["--list-checks", "--"])).toBe("info-query");
  expect(reason("clang-tidy", ["a.c"])).toBe("too-hard");
  expect(reason("clang-tidy", ["-p", "build", "a.c", "--"])).toBe("too-hard");
  expect(reason("clang-tidy", ["a.c", "b.c", "--"])).toBe("too-hard");
  expect(reason("clang-tidy", ["--frobnicate", "a.c", "--"])).toBe("unknown-option");
  expect(reason("clang-tidy", ["a.c", "--", "-c", "b.c"])).toBe("too-hard");
  expect(reason("clang-tidy", ["a.c", "--", "-E"])).toBe("preprocess-only");
});

test("include-what-you-use: its own options, mapping files, one source", () => {
  const c = classifyAnalysis("iwyu", ["-Xiwyu", "--mapping_file=m.imp", "-Xiwyu", "--error=3", "-Iinc", "-c", "a.c", "-o", "a.o"], "/w");
  expect(c.kind === "analysis" && c.inv.mappingFiles).toEqual(["m.imp"]);
  expect(c.kind === "analysis" && c.inv.compileArgs).toEqual(["-Iinc", "-c", "a.c", "-o", "a.o"]);
  expect(c.kind === "analysis" && c.inv.readsDirConfig).toBe(false);
  expect(reason("iwyu", ["-Xiwyu", "--mapping_file", "-Xiwyu", "m.imp", "a.c"])).toBe("too-hard");
  expect(reason("iwyu", ["-Xiwyu", "--no_such_thing", "a.c"])).toBe("unknown-option");
  expect(reason("iwyu", ["-Xiwyu", "--version"])).toBe("info-query");
  expect(reason("iwyu", ["a.c", "b.c"])).toBe("too-hard");
  expect(reason("iwyu", ["-Iinc"])).toBe("no-input");
});

test("config search directories run from each file's directory to the root", () => {
  expect(configSearchDirs(["/p/q/a.c", "/p/r/b.h"])).toEqual(["/p/q", "/p", "/", "/p/r"]);
});

test("mapping files: references found in the cwd first, then next to their referrer; a missing one refused", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-imp-"));
  try {
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(path.join(dir, "top.imp"), '[ { ref: "sub/inner.imp" } ]\n');
    // Every YAML spelling: a quoted key, an unquoted value.
    fs.writeFileSync(path.join(dir, "sub", "inner.imp"), "[ { \"ref\": leaf.imp } ]\n");
    fs.writeFileSync(path.join(dir, "sub", "leaf.imp"), "[]\n");
    const r = mappingFileClosure(["top.imp"], dir);
    expect(r?.files.sort()).toEqual([path.join(dir, "top.imp"), path.join(dir, "sub", "inner.imp"), path.join(dir, "sub", "leaf.imp")].sort());
    // leaf.imp is looked for in the cwd first: it must stay absent there.
    expect(r?.absent).toEqual([path.join(dir, "leaf.imp")]);
    fs.writeFileSync(path.join(dir, "leaf.imp"), "[]\n");
    expect(mappingFileClosure(["top.imp"], dir)?.files).toContain(path.join(dir, "leaf.imp"));
    fs.rmSync(path.join(dir, "leaf.imp"));
    fs.rmSync(path.join(dir, "sub", "leaf.imp"));
    expect(mappingFileClosure(["top.imp"], dir)).toBeNull();
    expect(mappingFileClosure(["nope.imp"], dir)).toBeNull();
    // A ref that cannot be followed is refused, not skipped.
    fs.writeFileSync(path.join(dir, "odd.imp"), "[ { ref:\n    multi-line } ]\n");
    expect(mappingFileClosure(["odd.imp"], dir)).toBeNull();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
