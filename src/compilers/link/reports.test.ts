import { expect, test } from "bun:test";
import { filesFromLinkerDepfile, splitLldVerbose } from "./reports.ts";
import { isBuildFile, isLinkSideFile } from "./side-files.ts";
import { libraryProbes, parseLdSearchDirs, parsePrintSearchDirs, searchDir } from "./search.ts";

test("linker dependency files: absolute, deduplicated, .. kept as written", () => {
  const text = "prog: \\\n  a.o \\\n  ./libx.a \\\n  /usr/lib/gcc/x/12/../../../crt1.o \\\n  a.o\n\na.o:\n";
  expect(filesFromLinkerDepfile(text, "/w")).toEqual(["/w/a.o", "/w/libx.a", "/usr/lib/gcc/x/12/../../../crt1.o"]);
});

test("lld --verbose: loaded files found, the log taken out of stderr, warnings kept", () => {
  const err = Buffer.from(
    [
      "wasm-ld-14: Loading: a.o",
      "wasm-ld-14: Loading: /c/libc.a",
      "wasm-ld-14: Processing: a.o",
      "wasm-ld-14: warning: something odd",
      ">>> defined in a.o",
      "emcc: warning: also kept",
      "wasm-ld-14: -- layoutMemory",
      "",
    ].join("\n"),
  );
  const s = splitLldVerbose(err, "/w");
  expect(s.files).toEqual(["/w/a.o", "/c/libc.a"]);
  expect(s.stderr.toString()).toBe("wasm-ld-14: warning: something odd\n>>> defined in a.o\nemcc: warning: also kept\n");
});

test("side files are the ones named after the output", () => {
  expect(isLinkSideFile("app.wasm", "app.js")).toBe(true);
  expect(isLinkSideFile("app.js.symbols", "app.js")).toBe(true);
  expect(isLinkSideFile("prog.map", "prog")).toBe(true);
  expect(isLinkSideFile("libx.so.debug", "libx.so")).toBe(true);
  expect(isLinkSideFile("libx.a", "libx.so")).toBe(false);
  expect(isLinkSideFile("app.o", "app.js")).toBe(false);
  expect(isLinkSideFile("other.wasm", "app.js")).toBe(false);
  expect(isLinkSideFile("a.out.wasm", "a.out.js")).toBe(true);
  // Sources, objects and other outputs named like the program are never taken.
  expect(isLinkSideFile("prog.c", "prog")).toBe(false);
  expect(isLinkSideFile("prog.o", "prog")).toBe(false);
  expect(isLinkSideFile("prog.test", "prog")).toBe(false);
  for (const f of ["prog.c", "prog.o", "util.h", "libx.a", "x.d", "pch.h.gch", "a.gcno"]) expect({ f, build: isBuildFile(f) }).toEqual({ f, build: true });
  for (const f of ["prog.sig", "libruntime.so", "runtime.dll", "app.wasm", "data.bin"]) expect({ f, build: isBuildFile(f) }).toEqual({ f, build: false });
});

test("library search: probes in every directory, tool-reported directories parsed", () => {
  expect(libraryProbes([{ name: "x", verbatim: false, archiveOnly: false }], ["/a", "/b"])).toEqual([
    "/a/libx.so",
    "/a/libx.a",
    "/b/libx.so",
    "/b/libx.a",
  ]);
  expect(libraryProbes([{ name: "x", verbatim: false, archiveOnly: true }], ["/a"])).toEqual(["/a/libx.a"]);
  expect(parsePrintSearchDirs("install: /x\nprograms: =/p\nlibraries: =/usr/lib/gcc/12/:/lib/../lib/:/usr/lib\n")).toEqual([
    "/usr/lib/gcc/12",
    "/lib",
    "/usr/lib",
  ]);
  expect(parseLdSearchDirs('SEARCH_DIR("=/usr/local/lib"); SEARCH_DIR("/opt/lib");')).toEqual(["=/usr/local/lib", "/opt/lib"]);
  expect(searchDir("=/usr/lib", "/w", "/sys")).toBe("/sys/usr/lib");
  expect(searchDir("lib", "/w", null)).toBe("/w/lib");
});
