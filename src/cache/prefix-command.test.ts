import { expect, test } from "bun:test";
import { prefixSpoke } from "./prefix-command.ts";

test("the prefix's own stderr lines are recognised; the compiler's are not", () => {
  const warn = "x.c:1:5: warning: unused variable 'y' [-Wunused-variable]\n";
  expect(prefixSpoke(Buffer.from(`${warn}distcc[4242] ERROR: failed to distribute\n`), ["/usr/bin/distcc"])).toBe(true);
  expect(prefixSpoke(Buffer.from("ICECC[77] 12:00:00: no scheduler\n"), ["/usr/bin/icecc"])).toBe(true);
  expect(prefixSpoke(Buffer.from("wrap.sh: using host b\n"), ["/opt/wrap.sh", "--x"])).toBe(true);
  expect(prefixSpoke(Buffer.from(warn), ["/usr/bin/distcc"])).toBe(false);
  expect(prefixSpoke(Buffer.from("a distcc[1] mention mid-line\n"), ["/usr/bin/distcc"])).toBe(false);
  expect(prefixSpoke(Buffer.from("distcc[1] x\n"), [])).toBe(false);
});
