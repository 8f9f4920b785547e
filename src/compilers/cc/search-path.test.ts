import { expect, test } from "bun:test";
import { classifyCc, type Language } from "./args.ts";
import { parseIgnoredDirs, parseVerboseSearchList, searchOrder, shadowProbes, systemAffecting } from "./search-path.ts";

test("reads the search list out of gcc -v", () => {
  const text = [
    "ignoring nonexistent directory \"/usr/local/include/x86_64-linux-gnu\"",
    '#include "..." search starts here:',
    " quoted",
    "#include <...> search starts here:",
    " /usr/lib/gcc/x86_64-linux-gnu/12/include",
    " /usr/include",
    "End of search list.",
    " /not/a/dir",
  ].join("\n");
  expect(parseVerboseSearchList(text)).toEqual(["quoted", "/usr/lib/gcc/x86_64-linux-gnu/12/include", "/usr/include"]);
  // Skipped because missing: searched once they exist.
  expect(parseIgnoredDirs(`${text}\nignoring duplicate directory "/usr/include"\nignoring nonexistent directory "sr/usr/local/include"`)).toEqual([
    "/usr/local/include/x86_64-linux-gnu",
    "sr/usr/local/include",
  ]);
});

test("probes every earlier directory and the includer's directory for the same relative name", () => {
  const order = ["/src", "/p/a", "/p/b", "/usr/include"];
  const headers = new Map<string, Set<string>>([
    ["/p/b/x.h", new Set(["/src/m.c"])],
    ["/usr/include/sys/t.h", new Set(["/p/b/x.h"])],
    ["/src/local.h", new Set(["/src/m.c"])],
    ["/elsewhere/y.h", new Set(["/src/m.c"])],
  ]);
  expect(shadowProbes(headers, order, ["/usr/include"]).sort()).toEqual(
    ["/src/x.h", "/p/a/x.h", "/src/sys/t.h", "/p/a/sys/t.h", "/p/b/sys/t.h"].sort(),
  );
});

test("a header under several search directories is probed for each of them", () => {
  // -I a -I b with the source in the cwd: /w/b/x.h lies under /w (source dir) and /w/b.
  const order = ["/w", "/w/a", "/w/b"];
  const headers = new Map<string, Set<string>>([["/w/b/x.h", new Set(["/w/main.c"])]]);
  expect(shadowProbes(headers, order, []).sort()).toEqual(["/w/a/x.h", "/w/x.h"]);
});

test("unknown includers: every user header directory stands in for them", () => {
  const order = ["/src", "/p/a", "/p/b", "/usr/include"];
  const headers = new Map<string, Set<string> | null>([
    ["/p/b/x.h", null],
    ["/p/a/cfg.h", null],
    ["/usr/include/stdio.h", null],
  ]);
  const probes = shadowProbes(headers, order, ["/usr/include"]);
  // b/x.h includes "cfg.h": a new b/cfg.h would win over a/cfg.h.
  expect(probes).toContain("/p/b/cfg.h");
  expect(probes).toContain("/p/b/stdio.h");
  expect(probes).not.toContain("/p/b/x.h");
});

test("the flags that move the system directories; another tool's option value is not one", () => {
  expect(systemAffecting(["-O2", "-mllvm", "-inline-threshold=5", "-Xclang", "-mfoo", "-m32", "--sysroot", "sr", "-isysroot", "/s", "-std=c11", "-I/x"])).toEqual([
    "-m32",
    "--sysroot",
    "sr",
    "-isysroot",
    "/s",
    "-std=c11",
  ]);
});

test("each language reads its own include-path variable", () => {
  const env = { C_INCLUDE_PATH: "/c", CPLUS_INCLUDE_PATH: "/cxx", OBJC_INCLUDE_PATH: "/objc", OBJCPLUS_INCLUDE_PATH: "/objcxx" };
  const inv = classifyCc(["-c", "a.m"]);
  if (inv.kind !== "compile") throw new Error("expected a compile");
  const order = (lang: Language): string[] => searchOrder(inv.inv, "a.m", lang, ["/usr/include"], "/w", env);
  expect(order("c")).toContain("/c");
  expect(order("c++")).toContain("/cxx");
  expect(order("objective-c")).toEqual(["/w", "/objc", "/usr/include"]);
  expect(order("objective-c++")).toEqual(["/w", "/cxx", "/objcxx", "/usr/include"]);
});
