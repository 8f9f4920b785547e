import { expect, test } from "bun:test";
import { BASE_RELATIVE, decodePath, encodePath, relativeToCwd, remapPairs } from "./relative-paths.ts";

test("paths below the cwd keep their spelling, ones under a base dir become cwd-relative", () => {
  const cwd = "/b/c1/build";
  expect(encodePath("/b/c1/build/../inc/x.h", cwd, [])).toBe("../inc/x.h");
  expect(encodePath("/b/c1/inc/x.h", cwd, [])).toBe("/b/c1/inc/x.h");
  expect(encodePath("/b/c1/inc/x.h", cwd, ["/b"])).toBe(`${BASE_RELATIVE}../inc/x.h`);
  expect(encodePath("/usr/include/stdio.h", cwd, ["/b"])).toBe("/usr/include/stdio.h");
  // Not normalised: "sym/.." goes through a link; only the clean head is made relative.
  expect(encodePath("/b/c1/sym/../inc/x.h", cwd, ["/b"])).toBe(`${BASE_RELATIVE}../sym\u0001../inc/x.h`);
  expect(encodePath("/b/c1/lib/deep/../../src/./l.h", cwd, ["/b"])).toBe(`${BASE_RELATIVE}../lib/deep\u0001../../src/./l.h`);
  expect(relativeToCwd("/bb/x", cwd, ["/b"])).toBeNull();
});

test("decoding in another tree names that tree's file; directory listings keep their slash", () => {
  const two = "/b/checkout-two/build";
  expect(decodePath(`${BASE_RELATIVE}../inc/x.h`, two)).toBe("/b/checkout-two/inc/x.h");
  expect(decodePath("../inc/x.h", two)).toBe("/b/checkout-two/build/../inc/x.h");
  expect(decodePath("pch/x.h.gch/", two)).toBe("/b/checkout-two/build/pch/x.h.gch/");
  expect(decodePath(`${BASE_RELATIVE}../pch/x.h.gch/`, two)).toBe("/b/checkout-two/pch/x.h.gch/");
  expect(decodePath("/abs/x.h", two)).toBe("/abs/x.h");
  expect(decodePath(`${BASE_RELATIVE}../sym\u0001../inc/x.h`, two)).toBe("/b/checkout-two/sym/../inc/x.h");
  expect(decodePath(`${BASE_RELATIVE}../../c1/x.h`, two)).toBe("/b/c1/x.h");
  expect(encodePath("/b/c1/build", "/b/c1/build", [])).toBe(".");
  expect(decodePath(".", two)).toBe(two);
  expect(decodePath("./", two)).toBe(`${two}/`);
  // ".." right after the cwd or one of its parents is kept as the compiler spelled it.
  expect(relativeToCwd("/b/c1/build/../inc/x.h", "/b/c1/build", ["/b"])).toBe(".\u0001../inc/x.h");
  for (const p of ["/b/c1/build/../inc/x.h", "/b/c1/../shared/y.h", "/b/c1/lib/deep/../../src/l.h", "/b/c1/sym/../x.h", "/b/c1/build", "/b/c1/build/", "/b/c1/build/x.gch/", "/b/c1/build/a/b.h", "/b/c1/inc/", "/elsewhere/y.h"]) {
    expect(decodePath(encodePath(p, "/b/c1/build", ["/b"]), "/b/c1/build")).toBe(p);
  }
});

test("remap pairs run from the base dir down to the cwd", () => {
  expect(remapPairs("/b/c1/build", ["/b"])).toEqual([
    ["/b", "../.."],
    ["/b/c1", ".."],
    ["/b/c1/build", "."],
  ]);
  expect(remapPairs("/x/y", ["/b"])).toEqual([["/x/y", "."]]);
});
