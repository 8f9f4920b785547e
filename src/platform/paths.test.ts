import { expect, test } from "bun:test";
import { dirOf, joinPhysical } from "./paths.ts";

test("joins without collapsing '..' (a symlinked directory's parent is not its lexical parent)", () => {
  expect(joinPhysical("/w", "inc/sub/../x.h")).toBe("/w/inc/sub/../x.h");
  expect(joinPhysical("/w", "./inc//x.h")).toBe("/w/inc/x.h");
  expect(joinPhysical("/w", "/abs/./y.h")).toBe("/abs/y.h");
  expect(joinPhysical("/w", "inc/")).toBe("/w/inc");
  expect(joinPhysical("/w", ".")).toBe("/w");
  expect(dirOf("/w/inc/sub/../x.h")).toBe("/w/inc/sub/..");
});
