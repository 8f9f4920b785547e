import { expect, test } from "bun:test";
import { parseVerboseSearchList, shadowProbes } from "./search-path.ts";

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
});

test("probes every earlier directory for the same relative name", () => {
  const order = ["/src", "/p/a", "/p/b", "/usr/include"];
  expect(shadowProbes(["/p/b/x.h", "/usr/include/sys/t.h", "/src/local.h", "/elsewhere/y.h"], order).sort()).toEqual(
    ["/src/x.h", "/p/a/x.h", "/src/sys/t.h", "/p/a/sys/t.h", "/p/b/sys/t.h"].sort(),
  );
});
