import { describe, expect, test } from "bun:test";
import { lookupLdOption, parseLinkerArgs } from "./ld-args.ts";

function parsed(args: string[]) {
  const r = parseLinkerArgs(args);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.args;
}

function reason(args: string[]): string {
  const r = parseLinkerArgs(args);
  return r.ok ? "ok" : r.reason;
}

describe("lookupLdOption", () => {
  test("long options with one or two dashes, joined or separate values", () => {
    expect(lookupLdOption("--Map=x.map")).toMatchObject({ spec: { role: "side-output" }, value: "x.map", consumesNext: false });
    expect(lookupLdOption("-Map")).toMatchObject({ spec: { role: "side-output" }, value: null, consumesNext: true });
    expect(lookupLdOption("-soname")).toMatchObject({ spec: { role: "plain" }, consumesNext: true });
    expect(lookupLdOption("--build-id")).toMatchObject({ spec: { role: "build-id" }, value: null, consumesNext: false });
    expect(lookupLdOption("--build-id=uuid")).toMatchObject({ value: "uuid" });
  });

  test("short options with glued values", () => {
    expect(lookupLdOption("-lfoo")).toMatchObject({ spec: { role: "lib" }, value: "foo" });
    expect(lookupLdOption("-L.")).toMatchObject({ spec: { role: "lib-dir" }, value: "." });
    expect(lookupLdOption("-znow")).toMatchObject({ spec: { role: "plain" }, value: "now" });
    expect(lookupLdOption("-Tlink.ld")).toMatchObject({ spec: { role: "input" }, value: "link.ld" });
    expect(lookupLdOption("-Ttext=0x1000")).toMatchObject({ spec: { role: "plain" }, value: "0x1000" });
    expect(lookupLdOption("-O1")).toMatchObject({ spec: { role: "plain" }, value: "1" });
  });

  test("unknown options are not guessed", () => {
    expect(lookupLdOption("--frobnicate-file=x")).toBeNull();
    expect(lookupLdOption("-Wfoo")).toBeNull();
    // --no-… and --warn-… never take a separate value.
    expect(lookupLdOption("--no-frobnicate")).toMatchObject({ spec: { role: "plain" }, consumesNext: false });
  });
});

describe("parseLinkerArgs", () => {
  test("inputs, libraries, scripts and outputs", () => {
    const a = parsed([
      "-o", "prog", "crt1.o", "a.o", "-L", "lib", "-Lother", "-lx", "-Bstatic", "-ly", "-Bdynamic", "-l:libz.a",
      "-T", "link.ld", "--version-script=ver.map", "-Map", "prog.map", "--dependency-file=deps.d", "-R", "syms.o",
    ]);
    expect(a.output).toBe("prog");
    expect(a.inputs).toEqual(["crt1.o", "a.o", "link.ld", "ver.map"]);
    expect(a.maybeInputs).toEqual(["syms.o"]);
    expect(a.libDirs).toEqual(["lib", "other"]);
    expect(a.libs).toEqual([
      { name: "x", verbatim: false, archiveOnly: false },
      { name: "y", verbatim: false, archiveOnly: true },
      { name: "libz.a", verbatim: true, archiveOnly: false },
    ]);
    expect(a.sideOutputs).toEqual(["prog.map"]);
    expect(a.userDepfile).toBe("deps.d");
  });

  test("hints for non-deterministic output", () => {
    expect(parsed(["--build-id=uuid", "a.o"]).hints).toEqual(["build-id-uuid"]);
    expect(parsed(["--build-id", "a.o"]).hints).toEqual([]);
    expect(parsed(["--build-id=sha1", "a.o"]).hints).toEqual([]);
  });

  test("not cacheable", () => {
    expect(reason(["--version"])).toBe("too-hard");
    expect(reason(["-v", "a.o"])).toBe("too-hard");
    expect(reason(["--reproduce=x.tar", "a.o"])).toBe("too-hard");
    expect(reason(["-plugin-opt=obj-path=/tmp/x", "a.o"])).toBe("too-hard");
    expect(reason(["--frobnicate", "a.o"])).toBe("unknown-option");
    expect(reason(["-o"])).toBe("too-hard");
    expect(reason(["a.o", "@rsp"])).toBe("too-hard");
  });
});
