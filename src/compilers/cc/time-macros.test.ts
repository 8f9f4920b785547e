import { expect, test } from "bun:test";
import { usesTimeMacros } from "./time-macros.ts";

const uses = (s: string): boolean => usesTimeMacros(Buffer.from(s));

test("finds the macros used as tokens", () => {
  expect(uses('const char *d = __DATE__;')).toBe(true);
  expect(uses("puts(__TIME__);")).toBe(true);
  expect(uses("#define X __TIMESTAMP__\n")).toBe(true);
});

test("ignores comments, strings and longer identifiers", () => {
  expect(uses("// built on __DATE__\nint x;")).toBe(false);
  expect(uses("/* __TIME__ */ int y;")).toBe(false);
  expect(uses('const char *s = "__TIMESTAMP__";')).toBe(false);
  expect(uses("int MY__DATE__X = 1; int __DATE__2;")).toBe(false);
  expect(uses("char c = '\\''; // __TIME__")).toBe(false);
  expect(uses("int plain;")).toBe(false);
});

test("inputs a depfile cannot capture", async () => {
  const { hasOpaqueInputs } = await import("./time-macros.ts");
  expect(hasOpaqueInputs(Buffer.from('__asm__(".incbin \\"d.bin\\"");'))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from('#pragma GCC dependency "parse.y"\n'))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from("#  pragma   GCC dependency <x.y>\n"))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from("/* no dependency here */ int x;"))).toBe(false);
});
