import { expect, test } from "bun:test";
import { splitHeaderTrace } from "./header-trace.ts";

test("removes -H lines and the include-guard list, keeping real diagnostics byte for byte", () => {
  const stderr = Buffer.concat([
    Buffer.from(". /usr/include/stdio.h\n.. /usr/include/features.h\n"),
    Buffer.from("m.c:3:5: warning: unused variable \xe9 [-Wunused]\n", "latin1"),
    Buffer.from(". inc/a.h\nMultiple include guards may be useful for:\ninc/a.h\n"),
    Buffer.from("    3 | int x;\n"),
  ]);
  const t = splitHeaderTrace(stderr);
  expect(t.headers.map((h) => h.path)).toEqual(["/usr/include/stdio.h", "/usr/include/features.h", "inc/a.h"]);
  expect(
    t.stderr.equals(
      Buffer.concat([Buffer.from("m.c:3:5: warning: unused variable \xe9 [-Wunused]\n", "latin1"), Buffer.from("    3 | int x;\n")]),
    ),
  ).toBe(true);
});

test("rebuilds includers from the depth dots", () => {
  const t = splitHeaderTrace(Buffer.from(". b/x.h\n.. a/cfg.h\n... a/deep.h\n.. b/y.h\n. a/cfg.h\n"));
  const inc = Object.fromEntries(t.headers.map((h) => [h.path, [...h.includers].sort()]));
  expect(inc).toEqual({ "b/x.h": [""], "a/cfg.h": ["", "b/x.h"], "a/deep.h": ["a/cfg.h"], "b/y.h": ["b/x.h"] });
  expect(t.stderr.toString()).toBe("");
});
