import { expect, test } from "bun:test";
import { dirOf, hasRelativeEntry, joinPhysical } from "./paths.ts";

test("joins without collapsing '..' (a symlinked directory's parent is not its lexical parent)", () => {
  expect(joinPhysical("/w", "inc/sub/../x.h")).toBe("/w/inc/sub/../x.h");
  expect(joinPhysical("/w", "./inc//x.h")).toBe("/w/inc/x.h");
  expect(joinPhysical("/w", "/abs/./y.h")).toBe("/abs/y.h");
  expect(joinPhysical("/w", "inc/")).toBe("/w/inc");
  expect(joinPhysical("/w", ".")).toBe("/w");
  expect(dirOf("/w/inc/sub/../x.h")).toBe("/w/inc/sub/..");
});

test("hasRelativeEntry: an empty or relative entry in any list set; unset lists are none", () => {
  expect(hasRelativeEntry([null, undefined, "/a:/b"])).toBe(false);
  expect(hasRelativeEntry(["/a:rel"])).toBe(true);
  expect(hasRelativeEntry([null, "/a::/b"])).toBe(true);
  expect(hasRelativeEntry([""])).toBe(true);
  expect(hasRelativeEntry([])).toBe(false);
});
