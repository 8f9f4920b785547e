import { expect, test } from "bun:test";
import { depInfoTemplate, fillDepInfoTemplate, parseRustDepInfo } from "./depinfo.ts";

const DEP_INFO = [
  "/ws/target/debug/deps/base-1.d: base/src/lib.rs base/src/extra.rs base/data\\ file.txt /reg/x/gen.rs",
  "",
  "/ws/target/debug/deps/libbase-1.rlib: base/src/lib.rs base/src/extra.rs base/data\\ file.txt /reg/x/gen.rs",
  "",
  "/ws/target/debug/deps/libbase-1.rmeta: base/src/lib.rs base/src/extra.rs base/data\\ file.txt /reg/x/gen.rs",
  "",
  "base/src/lib.rs:",
  "base/src/extra.rs:",
  "base/data\\ file.txt:",
  "/reg/x/gen.rs:",
  "",
  "# env-dep:CARGO_PKG_NAME=base",
  "# env-dep:ZC_FLAVOR",
  "# env-dep:MULTI=a\\nb",
  "",
].join("\n");

test("parses sources (unescaped) and env-dep names", () => {
  const d = parseRustDepInfo(DEP_INFO);
  expect(d?.deps).toEqual(["base/src/lib.rs", "base/src/extra.rs", "base/data file.txt", "/reg/x/gen.rs"]);
  expect(d?.envNames).toEqual(["CARGO_PKG_NAME", "ZC_FLAVOR", "MULTI"]);
  expect(d?.targets).toHaveLength(3);
});

test("a template fills in for another target dir and tree", () => {
  const outputs = (dir: string) => [
    { role: "dep-info", written: `${dir}/base-1.d` },
    { role: "link:rlib", written: `${dir}/libbase-1.rlib` },
    { role: "metadata", written: `${dir}/libbase-1.rmeta` },
  ];
  const text = DEP_INFO.replace("/reg/x/gen.rs", "/ws/base/src/abs.rs");
  const t = depInfoTemplate(text, outputs("/ws/target/debug/deps"), "/ws");
  if (t === null) throw new Error("no template");
  expect(t).not.toContain("/ws/");
  const filled = fillDepInfoTemplate(t, outputs("/other/debug/deps"), "/copy");
  expect(filled).toBe(text.replaceAll("/ws/target/debug/deps", "/other/debug/deps").replaceAll("/ws/base/src/abs.rs", "/copy/base/src/abs.rs"));
  // The same target dir and tree give back the original bytes.
  expect(fillDepInfoTemplate(t, outputs("/ws/target/debug/deps"), "/ws")).toBe(text);
});

test("a rule target that is not a known output refuses a template", () => {
  expect(depInfoTemplate(DEP_INFO, [{ role: "dep-info", written: "/ws/target/debug/deps/base-1.d" }], "/ws")).toBeNull();
});
