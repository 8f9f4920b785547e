import { expect, test } from "bun:test";
import { OutputWrites } from "./output-writes.ts";

test("a file another job is writing, or wrote since a time, is others'; one's own files are not", () => {
  const w = new OutputWrites();
  const mine = new Set(["/d/prog"]);
  const start = Date.now();
  const end = w.begin(["/d/other.o"]);
  expect(w.writtenByOthers("/d/other.o", start, mine)).toBe(true);
  expect(w.writtenByOthers("/d/unrelated", start, mine)).toBe(false);
  end();
  expect(w.writtenByOthers("/d/other.o", start, mine)).toBe(true);
  expect(w.writtenByOthers("/d/other.o", Date.now() + 1000, mine)).toBe(false);
  const ownEnd = w.begin(["/d/prog"]);
  expect(w.writtenByOthers("/d/prog", start, mine)).toBe(false);
  ownEnd();
});

test("owners: the job (by its main output) whose entry last stored or delivered a path", () => {
  const w = new OutputWrites();
  expect(w.ownerOf("/d/a.o")).toBeUndefined();
  w.own("/d/libr.so", "/d/prog");
  w.own("/d/libr.so", "/d/other");
  expect(w.ownerOf("/d/libr.so")).toBe("/d/other");
});
