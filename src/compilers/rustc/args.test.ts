import { expect, test } from "bun:test";
import { classifyRustc, expandArgFiles } from "./args.ts";

/** What cargo passes for a library in a dev build (shortened). */
const CARGO_LIB = [
  "--crate-name", "serde", "--edition=2018", "/reg/serde-1.0.152/src/lib.rs",
  "--error-format=json", "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
  "--crate-type", "lib", "--emit=dep-info,metadata,link", "-C", "embed-bitcode=no", "-C", "debuginfo=2",
  "--cfg", 'feature="default"', "--check-cfg", "cfg(docsrs,test)",
  "-C", "metadata=dbaa14e190656f61", "-C", "extra-filename=-dbaa14e190656f61",
  "--out-dir", "/t/debug/deps", "-C", "incremental=/t/debug/incremental",
  "-L", "dependency=/t/debug/deps", "--extern", "serde_derive=/t/debug/deps/libserde_derive-1.so",
  "--cap-lints", "allow", "-Lnative=/t/debug/build/x/out", "-l", "static=foo",
];

test("classifies cargo's library invocation", () => {
  const c = classifyRustc(CARGO_LIB);
  if (c.kind !== "cacheable") throw new Error(c.detail);
  const inv = c.inv;
  expect(inv.crateName).toBe("serde");
  expect(inv.crateTypes).toEqual(["lib"]);
  expect(inv.emits.map((e) => e.kind)).toEqual(["dep-info", "metadata", "link"]);
  expect(inv.outDir).toBe("/t/debug/deps");
  expect(inv.extraFilename).toBe("-dbaa14e190656f61");
  expect(inv.externs).toEqual([{ name: "serde_derive", modifiers: "", path: "/t/debug/deps/libserde_derive-1.so" }]);
  expect(inv.searchPaths).toEqual([
    { kind: "dependency", path: "/t/debug/deps" },
    { kind: "native", path: "/t/debug/build/x/out" },
  ]);
  expect(inv.linkLibs).toEqual([{ kind: "static", verbatim: false, name: "foo" }]);
  const names = inv.keyArgs.map((a) => `${a.name}=${a.value}`);
  // Output locations are not key arguments; incremental is not either.
  expect(names.some((n) => n.includes("incremental"))).toBe(false);
  expect(names.some((n) => n.startsWith("--out-dir"))).toBe(false);
  expect(names).toContain("-C=metadata=dbaa14e190656f61");
  expect(names).toContain("<input>=/reg/serde-1.0.152/src/lib.rs");
});

test("extern modifiers and path-less externs", () => {
  const c = classifyRustc(["--crate-name", "a", "--crate-type", "rlib", "a.rs", "--extern", "noprelude:core=/x/libcore.rlib", "--extern", "proc_macro"]);
  if (c.kind !== "cacheable") throw new Error(c.detail);
  expect(c.inv.externs).toEqual([
    { name: "core", modifiers: "noprelude", path: "/x/libcore.rlib" },
    { name: "proc_macro", modifiers: "", path: null },
  ]);
});

test("not cacheable, each with its reason", () => {
  const reason = (args: string[]): string => {
    const c = classifyRustc(args);
    return c.kind === "not-cacheable" ? c.reason : "cacheable";
  };
  const base = ["--crate-name", "a", "a.rs"];
  expect(reason(["-vV"])).toBe("info-query");
  expect(reason(["-", "--crate-name", "___", "--print=file-names", "--crate-type", "bin"])).toBe("stdin-input");
  expect(reason(["--print", "sysroot"])).toBe("info-query");
  expect(reason([...base, "--crate-type", "cdylib"])).toBe("dylib-crate");
  expect(reason([...base, "--crate-type", "rlib,dylib"])).toBe("dylib-crate");
  expect(reason([...base, "--crate-type", "lib", "--test"])).toBe("test-harness");
  expect(reason([...base, "--crate-type", "lib", "-o", "x.rlib"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "-C", "save-temps"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "-Csplit-debuginfo=packed"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "-Zunpretty=expanded"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "--sysroot", "/s"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "--print=link-args=/tmp/x"])).toBe("too-hard");
  expect(reason([...base, "--crate-type", "lib", "--frobnicate"])).toBe("unknown-option");
  expect(reason(["a.rs", "--crate-type", "lib"])).toBe("too-hard"); // no --crate-name
  expect(reason(["--crate-name", "a", "a.rs"])).toBe("too-hard"); // no --crate-type
  expect(reason([...base, "--crate-type", "lib", "-Csplit-debuginfo=off", "-Cincremental=/i"])).toBe("cacheable");
  expect(reason([...base, "--crate-type", "proc-macro"])).toBe("cacheable");
  expect(reason([...base, "--crate-type=bin", "-vg"])).toBe("cacheable");
});

test("@file arguments expand one per line", () => {
  const files: Record<string, string> = { "args.txt": "--crate-type\nlib\n--cfg\nfeature=\"a b\"\n" };
  expect(expandArgFiles(["--crate-name", "a", "@args.txt", "a.rs"], (p) => files[p] ?? null)).toEqual([
    "--crate-name", "a", "--crate-type", "lib", "--cfg", 'feature="a b"', "a.rs",
  ]);
  expect(expandArgFiles(["@missing"], () => null)).toBeNull();
});
