// scripts/build.sh on a machine without a C compiler: one line says so, and the output's
// zccache is the TypeScript program itself (no launcher, no zccache-core beside it).
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, run, tempDir } from "../helpers.ts";

const out = tempDir("zc-build-nocc-");
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test("without cc the build says so once and installs the TypeScript program as zccache", () => {
  // Leftovers of an earlier build with cc must not survive next to the TS program.
  fs.writeFileSync(path.join(out, "zccache-core"), "stale");
  const r = run(["bash", path.join(REPO_ROOT, "scripts", "build.sh"), out], { env: { ...process.env, CC: "no-such-cc-zccache" } });
  if (r.code !== 0) throw new Error(`build.sh failed:\n${r.out}${r.err}`);
  expect(r.out.split("\n").filter((l) => l.includes("no C compiler"))).toHaveLength(1);
  expect(fs.readdirSync(out).sort()).toEqual(["zccache"]);
  const v = run([path.join(out, "zccache"), "version"]);
  expect(v.code).toBe(0);
  expect(v.out).toStartWith("zccache ");
  expect(fs.statSync(path.join(out, "zccache")).size).toBeGreaterThan(1 << 20);
});
