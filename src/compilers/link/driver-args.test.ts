import { expect, test } from "bun:test";
import { classifyDriverLink, classifyLinkerLink } from "./driver-args.ts";

function reason(args: string[], family: "gcc" | "clang" | "emcc" = "gcc"): string {
  const c = classifyDriverLink(args, family);
  return c.kind === "not-cacheable" ? c.reason : c.kind;
}

test("gcc links: inputs, -L/-l, -Wl and -Xlinker reach the linker table", () => {
  const c = classifyDriverLink(
    ["-O2", "a.o", "b.o", "-L.", "-lx", "-Wl,-Map,prog.map", "-Xlinker", "--version-script=v.map", "-T", "s.ld", "-o", "prog"],
    "gcc",
  );
  expect(c).toMatchObject({
    kind: "link",
    tool: { kind: "driver", family: "gcc", fuseLd: null },
    output: "prog",
    inputs: ["a.o", "b.o", "v.map", "s.ld"],
    libDirs: ["."],
    libs: [{ name: "x", verbatim: false, archiveOnly: false }],
    sideOutputs: ["prog.map"],
  });
});

test("defaults, -static and -fuse-ld", () => {
  expect(classifyDriverLink(["a.o"], "clang")).toMatchObject({ output: "a.out" });
  expect(classifyDriverLink(["-static", "a.o", "-lm"], "gcc")).toMatchObject({ libs: [{ name: "m", archiveOnly: true }] });
  expect(classifyDriverLink(["-fuse-ld=lld", "a.o"], "clang")).toMatchObject({ tool: { fuseLd: "lld" } });
});

test("emcc: its own options, -s in both spellings, file-reading options hashed", () => {
  const c = classifyDriverLink(
    ["a.o", "-s", "WASM=1", "-sEXPORTED_FUNCTIONS=@exports.txt", "--js-library", "lib.js", "--pre-js=pre.js", "--embed-file", "data.txt@/d.txt", "-o", "app.js"],
    "emcc",
  );
  expect(c).toMatchObject({ kind: "link", tool: { kind: "emcc" }, output: "app.js", inputs: ["a.o", "exports.txt", "lib.js", "pre.js", "data.txt"] });
  expect(classifyDriverLink(["a.o"], "emcc")).toMatchObject({ output: "a.out.js" });
  expect(reason(["a.o", "--em-config", "x"], "emcc")).toBe("too-hard");
});

test("not cacheable", () => {
  expect(reason(["main.c", "-o", "prog"])).toBe("compile-and-link");
  expect(reason(["a.o", "-x", "c", "b"])).toBe("too-hard");
  expect(reason(["a.o", "-Wl,-o,other"])).toBe("too-hard");
  expect(reason(["a.o", "-Wl,--frobnicate"])).toBe("unknown-option");
  expect(reason(["a.o", "-v"])).toBe("too-hard");
});

test("direct linkers", () => {
  expect(classifyLinkerLink(["-o", "x", "a.o", "-lc"], false)).toMatchObject({ kind: "link", tool: { kind: "ld" }, output: "x" });
  expect(classifyLinkerLink(["a.o", "--no-entry"], true)).toMatchObject({ tool: { kind: "wasm-ld" }, output: "a.out" });
});
