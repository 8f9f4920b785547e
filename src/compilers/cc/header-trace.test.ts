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
  expect(t.headers).toEqual(["/usr/include/stdio.h", "/usr/include/features.h", "inc/a.h"]);
  expect(t.stderr.equals(Buffer.concat([
    Buffer.from("m.c:3:5: warning: unused variable \xe9 [-Wunused]\n", "latin1"),
    Buffer.from("    3 | int x;\n"),
  ]))).toBe(true);
});
