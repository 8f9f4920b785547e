import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AbsenceChecker } from "./absence.ts";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

/** An include dir with a few missing subdirectories probed, old enough for its stat to be trusted. */
async function tree(): Promise<{ inc: string; groups: [string, string[]][] }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-absence-"));
  roots.push(root);
  const inc = path.join(root, "include");
  fs.mkdirSync(inc);
  fs.writeFileSync(path.join(inc, "present.h"), "");
  const groups: [string, string[]][] = [
    [inc, ["stdio.h"]],
    [`${inc}/bits`, ["types.h", "wordsize.h"]],
    [`${inc}/x86_64-linux-gnu/bits`, ["types.h"]],
    [`${inc}/x86_64-linux-gnu/sys`, ["cdefs.h"]],
    [`${inc}/bits/types`, ["FILE.h"]],
  ];
  // ctime cannot be backdated: wait out the racy window instead.
  await Bun.sleep(2_200);
  return { inc, groups };
}

function validate(checker: AbsenceChecker, groups: readonly [string, string[]][]): boolean {
  const pass = checker.pass();
  return groups.every(([dir, names]) => pass(dir, names));
}

test("missing directories are answered by the nearest existing one once it is trusted", async () => {
  const { groups } = await tree();
  const checker = new AbsenceChecker();
  expect(validate(checker, groups)).toBe(true);
  const first = checker.dirStats;
  expect(validate(checker, groups)).toBe(true);
  // The second pass stats only the include dir: every missing one is proven by it.
  expect(checker.dirStats - first).toBe(1);
});

for (const [what, make] of [
  ["a header in a new directory", (inc: string) => {
    fs.mkdirSync(`${inc}/x86_64-linux-gnu/bits`, { recursive: true });
    fs.writeFileSync(`${inc}/x86_64-linux-gnu/bits/types.h`, "");
  }],
  ["a header in a directory that is a new symlink", (inc: string) => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "zc-absence-target-"));
    roots.push(elsewhere);
    fs.mkdirSync(`${elsewhere}/types`);
    fs.writeFileSync(`${elsewhere}/types/FILE.h`, "");
    fs.symlinkSync(elsewhere, `${inc}/bits`);
  }],
  ["a header in a new directory whose parent mtime is set back", (inc: string) => {
    const before = fs.statSync(inc);
    fs.mkdirSync(`${inc}/bits`);
    fs.writeFileSync(`${inc}/bits/wordsize.h`, "");
    fs.utimesSync(inc, before.atime, before.mtime);
  }],
] as const) {
  test(`${what} is seen after the missing directories were memoised`, async () => {
    const { inc, groups } = await tree();
    const checker = new AbsenceChecker();
    expect(validate(checker, groups)).toBe(true);
    expect(validate(checker, groups)).toBe(true);
    make(inc);
    expect(validate(checker, groups)).toBe(false);
  });
}

test("a new directory without the probed name keeps the probes valid", async () => {
  const { inc, groups } = await tree();
  const checker = new AbsenceChecker();
  expect(validate(checker, groups)).toBe(true);
  fs.mkdirSync(`${inc}/x86_64-linux-gnu/sys`, { recursive: true });
  fs.writeFileSync(`${inc}/x86_64-linux-gnu/sys/other.h`, "");
  expect(validate(checker, groups)).toBe(true);
  fs.writeFileSync(`${inc}/x86_64-linux-gnu/sys/cdefs.h`, "");
  expect(validate(checker, groups)).toBe(false);
});

test("a dangling symlink on the way is never memoised as absent", async () => {
  const { inc, groups } = await tree();
  const target = path.join(path.dirname(inc), "later");
  fs.symlinkSync(target, `${inc}/bits`);
  await Bun.sleep(2_200);
  const checker = new AbsenceChecker();
  expect(validate(checker, groups)).toBe(true);
  expect(validate(checker, groups)).toBe(true);
  // The symlink starts to resolve: the include dir itself does not change.
  fs.mkdirSync(`${target}/types`, { recursive: true });
  fs.writeFileSync(`${target}/types/FILE.h`, "");
  expect(validate(checker, groups)).toBe(false);
});
