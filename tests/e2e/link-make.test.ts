// A real make-based project (a generated 30-file C library archived with ar, and a program
// linked against it) built with CC="zccache gcc" AR="zccache ar": after `make clean` the
// rebuild is all hits (compiles, archive and link) and the program is unchanged.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeMakeProject } from "../fixtures/link/make-project.ts";
import { CacheEnv, requireTool, run, type Status, ZCCACHE } from "../helpers.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

const FILES = 30;

function make(dir: string, args: string[], wrapped: boolean): void {
  const vars = wrapped ? [`CC=${ZCCACHE} gcc`, `AR=${ZCCACHE} ar`] : ["CC=gcc", "AR=ar"];
  const r = run(["make", "-j2", ...vars, ...args], { cwd: dir, env: env.env });
  if (r.code !== 0) throw new Error(`make ${args.join(" ")}: ${r.err}`);
}

function languageDelta(a: Status, b: Status, lang: string): Record<string, number> {
  const la = a.languages[lang] ?? { hits: 0, misses: 0, uncacheable: 0, errors: 0 };
  const lb = b.languages[lang] ?? { hits: 0, misses: 0, uncacheable: 0, errors: 0 };
  return { hits: lb.hits - la.hits, misses: lb.misses - la.misses, uncacheable: lb.uncacheable - la.uncacheable, errors: lb.errors - la.errors };
}

test("make clean && make: compiles, the archive and the link are all hits", () => {
  if (!requireTool("make", "this test is")) return;
  const dir = path.join(env.work, "proj");
  writeMakeProject(dir, FILES);
  const prog = path.join(dir, "prog");

  make(dir, [], false);
  const bareProg = fs.readFileSync(prog);
  const bareOut = run([prog]).out;
  expect(bareOut).toMatch(/^total=\d+\n$/);
  make(dir, ["clean"], false);

  // Cold: everything misses once.
  const s0 = env.status();
  make(dir, [], true);
  const s1 = env.status();
  expect(languageDelta(s0, s1, "c")).toEqual({ hits: 0, misses: FILES + 1, uncacheable: 0, errors: 0 });
  expect(languageDelta(s0, s1, "link")).toEqual({ hits: 0, misses: 2, uncacheable: 0, errors: 0 });
  expect(fs.readFileSync(prog).equals(bareProg)).toBe(true);

  // Clean rebuild: all hits, the same program.
  make(dir, ["clean"], true);
  make(dir, [], true);
  const s2 = env.status();
  expect(languageDelta(s1, s2, "c")).toEqual({ hits: FILES + 1, misses: 0, uncacheable: 0, errors: 0 });
  expect(languageDelta(s1, s2, "link")).toEqual({ hits: 2, misses: 0, uncacheable: 0, errors: 0 });
  expect(s2.errors - s1.errors).toBe(0);
  expect(fs.readFileSync(prog).equals(bareProg)).toBe(true);
  expect(run([prog]).out).toBe(bareOut);

  // One library source changes: one compile, the archive update and the link miss.
  const one = path.join(dir, "lib", "gen_07.c");
  fs.writeFileSync(one, fs.readFileSync(one, "utf8").replace("int acc = 1;", "int acc = 2;"));
  make(dir, [], true);
  const s3 = env.status();
  expect(languageDelta(s2, s3, "c")).toEqual({ hits: 0, misses: 1, uncacheable: 0, errors: 0 });
  expect(languageDelta(s2, s3, "link")).toEqual({ hits: 0, misses: 2, uncacheable: 0, errors: 0 });
  expect(run([prog]).out).not.toBe(bareOut);
});
