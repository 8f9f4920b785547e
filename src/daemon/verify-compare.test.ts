import { expect, test } from "bun:test";
import { compareOutputs, describeDifference, firstDifference } from "./verify-compare.ts";

const b = (s: string): Buffer => Buffer.from(s);

test("firstDifference: null when equal, else the first differing offset", () => {
  expect(firstDifference(b("abcdef"), b("abcdef"))).toBeNull();
  expect(firstDifference(b(""), b(""))).toBeNull();
  expect(firstDifference(b("abcdef"), b("abXdef"))).toBe(2);
  expect(firstDifference(b("Xbcdef"), b("abcdef"))).toBe(0);
  expect(firstDifference(b("abcdeX"), b("abcdef"))).toBe(5);
});

test("firstDifference: a prefix differs where the shorter one ends", () => {
  expect(firstDifference(b("abc"), b("abcdef"))).toBe(3);
  expect(firstDifference(b("abcdef"), b("abc"))).toBe(3);
  expect(firstDifference(b(""), b("a"))).toBe(0);
});

test("firstDifference reads views at their own offset", () => {
  const whole = b("xxabcxx");
  const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, 3);
  expect(firstDifference(view, b("abc"))).toBeNull();
  expect(firstDifference(view, b("abd"))).toBe(2);
});

test("compareOutputs lists only the outputs that differ, with sizes, and missing sides", () => {
  const diffs = compareOutputs([
    { role: "object", path: "/w/a.o", expected: b("same"), fresh: b("same") },
    { role: "depfile", path: "/w/a.d", expected: b("a.o: a.c\n"), fresh: b("a.o: a.c b.h\n") },
    { role: "dwo", path: "/w/a.dwo", expected: null, fresh: b("x") },
    { role: "su", path: "/w/a.su", expected: b("x"), fresh: null },
    { role: "gcno", path: "/w/a.gcno", expected: null, fresh: null },
  ]);
  expect(diffs).toEqual([
    { role: "depfile", path: "/w/a.d", offset: 8, expectedSize: 9, freshSize: 13 },
    { role: "dwo", path: "/w/a.dwo", offset: null, expectedSize: null, freshSize: 1 },
    { role: "su", path: "/w/a.su", offset: null, expectedSize: 1, freshSize: null },
  ]);
});

test("describeDifference names the output, the offset and both sizes", () => {
  expect(describeDifference({ role: "object", path: "/w/a.o", offset: 69, expectedSize: 1096, freshSize: 1100 })).toBe(
    "object /w/a.o differs at byte 69 (delivered 1096 B, fresh 1100 B)",
  );
  expect(describeDifference({ role: "object", path: "/w/a.o", offset: 0, expectedSize: 10, freshSize: 10 }, "on disk")).toBe(
    "object /w/a.o differs at byte 0 (on disk 10 B, fresh 10 B)",
  );
  expect(describeDifference({ role: "object", path: "/w/a.o", offset: null, expectedSize: 10, freshSize: 12 })).toBe(
    "object /w/a.o differs (delivered 10 B, fresh 12 B)",
  );
  expect(describeDifference({ role: "dwo", path: "/w/a.dwo", offset: null, expectedSize: null, freshSize: 1 })).toBe(
    "dwo /w/a.dwo: the fresh compile wrote it, but it was not delivered",
  );
  expect(describeDifference({ role: "su", path: "/w/a.su", offset: null, expectedSize: 1, freshSize: null })).toBe(
    "su /w/a.su: delivered, but the fresh compile did not write it",
  );
});
