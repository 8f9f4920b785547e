import { expect, test } from "bun:test";
import { cacheKey } from "../../cache/key.ts";
import { ccKeyFields, type CcKeyInputs, usesNativeCpu } from "./plan.ts";

test("options that target the host CPU are recognised, others not", () => {
  for (const a of ["-march=native", "-mcpu=native", "-mtune=native", "-mcpu=native+crypto"]) expect(usesNativeCpu(["-O2", a, "-c", "x.c"])).toBe(true);
  for (const a of ["-march=x86-64-v3", "-mtune=generic", "-Dnative", "-march=nativex"]) expect(usesNativeCpu([a])).toBe(false);
});

test("with -march=native the host CPU is in the key: two CPUs, two keys", () => {
  const base: CcKeyInputs = {
    compilerHash: "c",
    invokedName: "gcc",
    args: ["-O2", "-march=native", "-c", "x.c"],
    cwd: null,
    remap: false,
    env: {},
    colorMode: "pipe",
    sourceHash: "s",
    hostCpu: "cpu-a",
  };
  const a = cacheKey("cc", ccKeyFields(base));
  const b = cacheKey("cc", ccKeyFields({ ...base, hostCpu: "cpu-b" }));
  expect(a).not.toBe(b);
  expect(cacheKey("cc", ccKeyFields({ ...base, hostCpu: "cpu-a" }))).toBe(a);
});
