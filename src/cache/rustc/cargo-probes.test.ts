import { expect, test } from "bun:test";
import { targetInfoProbe } from "../../../tests/fixtures/rust/probes.ts";
import { isVerboseVersion, targetInfoProbeTargets } from "./cargo-probes.ts";

const PROBE = targetInfoProbe;

test("cargo's target-info probe is recognised, with the targets it names", () => {
  expect(targetInfoProbeTargets(PROBE())).toEqual([]);
  expect(targetInfoProbeTargets(PROBE("--target", "x86_64-unknown-linux-gnu"))).toEqual(["x86_64-unknown-linux-gnu"]);
  expect(targetInfoProbeTargets(PROBE("--target=wasm32-unknown-unknown", "--cfg", "feature=\"x\"", "-C", "opt-level=3"))).toEqual(["wasm32-unknown-unknown"]);
  expect(targetInfoProbeTargets(["-", "--print", "cfg"])).toEqual([]);
  expect(targetInfoProbeTargets(PROBE("-C", "target-cpu=znver3", "-Ctarget-feature=+avx2", "-D", "warnings", "-Aunused", "--cfg=tokio_unstable", "--edition", "2021"))).toEqual([]);
});

test("a probe whose answer can depend on the host or a file is not: native, -Z, --sysroot, other prints, no stdin source", () => {
  expect(targetInfoProbeTargets(PROBE("-C", "target-cpu=native"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-Ctarget-feature=+native"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-L", "native=/usr/lib"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-Zunstable-options"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-Z", "build-std"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--sysroot", "/opt/rust"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--sysroot=/opt/rust"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--print=cfg=out.txt"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--print", "target-spec-json"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--print"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--target"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE().filter((a) => a !== "-"))).toBeNull();
  expect(targetInfoProbeTargets(["-", "--crate-name", "___"])).toBeNull();
  // Options that print the host's CPU, read files or load code, and anything not on the list.
  expect(targetInfoProbeTargets(PROBE("-C", "target-cpu=help"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-Crelocation-model=help"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-C", "llvm-args=@flags.txt"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-Ccodegen-backend=/tmp/x.so"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-C", "profile-use=/tmp/x.profdata"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-C"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-L", "/usr/lib"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("--emit=link"))).toBeNull();
  expect(targetInfoProbeTargets(PROBE("-o", "x"))).toBeNull();
});

test("rustc --version --verbose in its spellings, and nothing with more arguments", () => {
  for (const a of [["-vV"], ["-Vv"], ["-V", "-v"], ["--version", "--verbose"], ["--verbose", "--version"]]) expect(isVerboseVersion(a)).toBe(true);
  for (const a of [["-V"], ["--version"], ["-vV", "--target", "x"], ["-vV", "-vV"], []]) expect(isVerboseVersion(a)).toBe(false);
});
