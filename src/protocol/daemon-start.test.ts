import { expect, test } from "bun:test";
import { parseOwnerPids } from "./daemon-start.ts";

test("owner PIDs: one, a comma list with spaces, duplicates once", () => {
  expect(parseOwnerPids("123")).toEqual({ ok: true, value: [123] });
  expect(parseOwnerPids(" 12 , 34,12")).toEqual({ ok: true, value: [12, 34] });
});

test("owner PIDs: anything but process IDs is refused, naming the bad item", () => {
  for (const bad of ["", "abc", "0", "-5", "12,", "1.5", "0x10", "99999999", "12 34"]) {
    const r = parseOwnerPids(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("invalid owner PID");
  }
});
