import { expect, test } from "bun:test";
import { parseDepfile } from "./depfile.ts";

test("parses continuations, escapes and -MP phony rules", () => {
  const text = [
    "obj/a.o obj/a.d: src/a.c /usr/include/stdio.h \\",
    " inc/with\\ space.h inc/dollar$$.h \\",
    "  inc/hash\\#.h",
    "",
    "/usr/include/stdio.h:",
    "",
    "inc/with\\ space.h:",
    "",
  ].join("\n");
  expect(parseDepfile(text)).toEqual([
    "src/a.c",
    "/usr/include/stdio.h",
    "inc/with space.h",
    "inc/dollar$.h",
    "inc/hash#.h",
  ]);
});

test("an empty or target-only depfile has no prerequisites", () => {
  expect(parseDepfile("")).toEqual([]);
  expect(parseDepfile("a.o:\n")).toEqual([]);
});
