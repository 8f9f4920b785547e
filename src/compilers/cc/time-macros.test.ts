import { describe, expect, test } from "bun:test";
import { hasAbsoluteIncludes, usesTimeMacros } from "./time-macros.ts";

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
  // .include, and directive names split over adjacent literals, read files as well.
  expect(hasOpaqueInputs(Buffer.from('__asm__(".include \\"data.inc\\"");'))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from('asm(".inc" "bin \\"data.inc\\"");'))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from('asm(".incl"\n    "ude \\"x.s\\"");'))).toBe(true);
  // glibc-style redirections and #include of .inc files are not file reads of the assembler.
  expect(hasOpaqueInputs(Buffer.from('extern int f(void) __asm__ ("" "__f_v2");\n#include "tables.inc"\n'))).toBe(false);
  expect(hasOpaqueInputs(Buffer.from('#pragma GCC dependency "parse.y"\n'))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from("#  pragma   GCC dependency <x.y>\n"))).toBe(true);
  expect(hasOpaqueInputs(Buffer.from("/* no dependency here */ int x;"))).toBe(false);
});

describe("inputs that can name their own tree", () => {
  const yes = ['#include "/abs/x.h"\n', "#include </abs/x.h>\n", "  #  include_next MACRO_NAME\n", '#import "/x.h"\n'];
  const no = ['#include "x.h"\n', "#include <stdio.h>\n", "#include_next <limits.h>\n", "   #include's protect themselves\n", "int include;\n"];
  for (const s of yes) test(`absolute or computed: ${JSON.stringify(s)}`, () => expect(hasAbsoluteIncludes(Buffer.from(s))).toBe(true));
  for (const s of no) test(`plain: ${JSON.stringify(s)}`, () => expect(hasAbsoluteIncludes(Buffer.from(s))).toBe(false));
});
