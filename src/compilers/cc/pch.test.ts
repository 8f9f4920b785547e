import { expect, test } from "bun:test";
import { clangImplicitPch, gchCandidates, hasIncludeSpellings, includeSpellings, parsePchTrace, pchTraceArgs } from "./pch.ts";

test("include spellings of a source, and whether one cannot be read without the compiler", () => {
  const r = includeSpellings('#include "a.h"\n  #  include <sys/b.h>\n#import "c.h"\nint x;\n#include_next <d.h>\n');
  expect(r).toEqual({ spelled: ["a.h", "sys/b.h", "c.h", "d.h"], unreadable: false });
  expect(includeSpellings('#define H "a.h"\n#include H\n').unreadable).toBe(true);
  expect(includeSpellings('#/**/include "a.h"\n').unreadable).toBe(true);
  expect(includeSpellings('#include \\\n "a.h"\n')).toEqual({ spelled: ["a.h"], unreadable: false });
  expect(includeSpellings("int include = 1; // no directive\n").unreadable).toBe(false);
});

test(".gch candidates in every searched directory; clang's beside -include as written", () => {
  expect(gchCandidates(["h.h", "/abs/x.h"], ["/cwd", "/inc"])).toEqual(["/cwd/h.h.gch", "/inc/h.h.gch", "/abs/x.h.gch"]);
  expect(clangImplicitPch(["-include", "p/h.h", "-c", "a.c"], "/w")).toEqual(["/w/p/h.h.pch", "/w/p/h.h.gch"]);
});

test("the PCH trace: used and rejected files; outputs left out of the trace run", () => {
  expect(parsePchTrace("! h.h.gch\n a.c\nx inc/h.h.gch\n. other.h\n")).toEqual(["h.h.gch", "inc/h.h.gch"]);
  expect(pchTraceArgs(["-O1", "-c", "a.c", "-o", "a.o", "-MD", "-MFa.d"])).toEqual([
    "-O1",
    "a.c",
    "-E",
    "-fpch-preprocess",
    "-H",
    "-o",
    "/dev/null",
  ]);
});

test("__has_include tests: names as written, macros flagged", () => {
  expect(hasIncludeSpellings(Buffer.from("int x;\n"))).toBeNull();
  expect(hasIncludeSpellings(Buffer.from("#ifdef __has_include\n#endif\n"))).toBeNull();
  expect(hasIncludeSpellings(Buffer.from('#if __has_include("a.h") && __has_include_next( <sys/b.h> )\n#endif\n'))).toEqual({
    spelled: ["a.h", "sys/b.h"],
    unreadable: false,
  });
  expect(hasIncludeSpellings(Buffer.from("#if __has_include(CONFIG_H)\n#endif\n"))?.unreadable).toBe(true);
  expect(hasIncludeSpellings(Buffer.from("#ifndef __has_include\n#  define __has_include(...) 0\n#endif\n"))).toBeNull();
});
