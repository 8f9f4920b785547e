import { expect, test } from "bun:test";
import { ProbeMemo } from "./probe-memo.ts";

test("one probe per key; a failed probe is asked again; a full memo starts over", async () => {
  const memo = new ProbeMemo<number>(2);
  let asked = 0;
  const probe = (): Promise<number> => Promise.resolve(++asked);
  expect(await Promise.all([memo.get("a", probe), memo.get("a", probe)])).toEqual([1, 1]);
  let fail = true;
  const flaky = (): Promise<number> => (fail ? Promise.reject(new Error("no")) : Promise.resolve(7));
  await expect(memo.get("b", flaky)).rejects.toThrow("no");
  fail = false;
  expect(await memo.get("b", flaky)).toBe(7);
  // "a" and "b" fill it: a third key clears it, so "a" is asked again.
  expect(await memo.get("c", probe)).toBe(2);
  expect(await memo.get("a", probe)).toBe(3);
});

test("an answer forgotten is asked again; the others stay", async () => {
  const memo = new ProbeMemo<number>(8);
  let asked = 0;
  const probe = (): Promise<number> => Promise.resolve(++asked);
  expect(await memo.get("a", probe)).toBe(1);
  expect(await memo.get("b", probe)).toBe(2);
  memo.forget("a");
  expect(await memo.get("a", probe)).toBe(3);
  expect(await memo.get("b", probe)).toBe(2);
});
