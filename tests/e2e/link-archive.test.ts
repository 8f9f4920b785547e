// Archives through the cache: ar/llvm-ar r and q miss once and then hit with the archive a
// bare run writes, byte for byte; the archive they update is an input; archives without
// deterministic mode are still cached and counted as a hint; other operations pass through.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type RunResult, type Status } from "../helpers.ts";
import { expectSameBytes, readOrNull } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----

interface Delta {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  entries: number;
  reasons: Record<string, number>;
  link: Record<string, number>;
  hints: Record<string, number>;
}

function numbers(o: unknown): Record<string, number> {
  return (typeof o === "object" && o !== null ? o : {}) as Record<string, number>;
}

function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

function diff(a: Status, b: Status): Delta {
  return {
    hits: b.hits - a.hits,
    misses: b.misses - a.misses,
    uncacheable: b.uncacheable - a.uncacheable,
    errors: b.errors - a.errors,
    entries: b.entries - a.entries,
    reasons: diffCounts(a.reasons, b.reasons),
    link: diffCounts(numbers(a.languages.link), numbers(b.languages.link)),
    hints: diffCounts(numbers(a.hints), numbers(b.hints)),
  };
}

function zcMeasured(args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd, env: extraEnv });
  return { r, d: diff(before, env.status()) };
}

function counts(d: Delta): Pick<Delta, "hits" | "misses" | "uncacheable" | "errors" | "reasons"> {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors, reasons: d.reasons };
}

const MISS = { hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } };
const HIT = { hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} };

function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [n, v] of [["a", 1], ["b", 2], ["c", 3]] as const) {
    // Members of their own per scenario: archives are keyed without their name or directory,
    // so equal members elsewhere would share an entry (relocation.test.ts covers that).
    fs.writeFileSync(path.join(d, `${n}.c`), `int ${n}_value(void) { return ${v}; }\nconst char *${n}_scenario = "${name}";\n`);
    const r = bare(["gcc", "-O2", "-c", `${n}.c`, "-o", `${n}.o`], d);
    if (r.code !== 0) throw new Error(r.err);
  }
  return d;
}

/** A bare run of `argv` from scratch, then a miss and a hit through zccache; all three agree. */
function missThenHit(dir: string, argv: readonly string[], archive: string): Buffer {
  const p = path.join(dir, archive);
  fs.rmSync(p, { force: true });
  const b = bare(argv, dir);
  expect(b.code).toBe(0);
  const bareBytes = readOrNull(p);
  fs.rmSync(p, { force: true });
  const miss = zcMeasured(argv, dir);
  expect({ argv, ...counts(miss.d) }).toEqual({ argv, ...MISS });
  expect(miss.d.link).toEqual({ misses: 1 });
  expect(miss.r.code).toBe(0);
  expectSameBytes(readOrNull(p), bareBytes, `${argv.join(" ")} (miss)`);
  fs.rmSync(p, { force: true });
  const hit = zcMeasured(argv, dir);
  expect({ argv, ...counts(hit.d) }).toEqual({ argv, ...HIT });
  expect(hit.d.link).toEqual({ hits: 1 });
  expect(hit.r.out).toBe(b.out);
  expect(hit.r.err).toBe(b.err);
  expectSameBytes(readOrNull(p), bareBytes, `${argv.join(" ")} (hit)`);
  return bareBytes as Buffer;
}

// ---- suites ----

describe("archives miss once, then hit byte-identical to a bare run", () => {
  const tools: [string, string][] = [
    ["ar", "rcsD"],
    ["ar", "rcs"],
    ["ar", "qc"],
    ["ar", "-rcsv"],
  ];
  if (requireTool("llvm-ar", "its cases are")) tools.push(["llvm-ar", "rcsD"], ["llvm-ar", "qc"]);
  for (const [tool, key] of tools) {
    test(`${tool} ${key}`, () => {
      const dir = scenario(`${tool}-${key.replace(/-/g, "")}`);
      missThenHit(dir, [tool, key, "libx.a", "a.o", "b.o"], "libx.a");
    });
  }
});

test("a changed member misses, and the archive matches a bare run with the new member", () => {
  const dir = scenario("changed-member");
  const argv = ["ar", "rcs", "libx.a", "a.o", "b.o"];
  const before = missThenHit(dir, argv, "libx.a");
  fs.writeFileSync(path.join(dir, "b.c"), "int b_value(void) { return 20; }\n");
  expect(bare(["gcc", "-O2", "-c", "b.c", "-o", "b.o"], dir).code).toBe(0);
  const after = missThenHit(dir, argv, "libx.a");
  expect(after.equals(before)).toBe(false);
});

test("the archive being updated is an input: r on an existing archive adds to it", () => {
  const dir = scenario("update");
  const lib = path.join(dir, "libx.a");
  const step = (argv: string[]) => {
    const z = zcMeasured(argv, dir);
    expect(z.r.code).toBe(0);
    return z.d;
  };
  // Bare: create with a.o, then add c.o.
  fs.rmSync(lib, { force: true });
  expect(bare(["ar", "rcs", "libx.a", "a.o"], dir).code).toBe(0);
  expect(bare(["ar", "rcs", "libx.a", "c.o"], dir).code).toBe(0);
  const bareBoth = fs.readFileSync(lib);
  expect(bare(["ar", "t", "libx.a"], dir).out).toBe("a.o\nc.o\n");

  fs.rmSync(lib, { force: true });
  expect(counts(step(["ar", "rcs", "libx.a", "a.o"]))).toEqual(MISS);
  expect(counts(step(["ar", "rcs", "libx.a", "c.o"]))).toEqual(MISS);
  expectSameBytes(fs.readFileSync(lib), bareBoth, "updated archive (miss)");
  // Again from scratch: both steps hit and give the same archive.
  fs.rmSync(lib, { force: true });
  expect(counts(step(["ar", "rcs", "libx.a", "a.o"]))).toEqual(HIT);
  expect(counts(step(["ar", "rcs", "libx.a", "c.o"]))).toEqual(HIT);
  expectSameBytes(fs.readFileSync(lib), bareBoth, "updated archive (hit)");
  // Adding c.o to an archive that holds only b.o is a different result: a miss.
  fs.rmSync(lib, { force: true });
  expect(bare(["ar", "rcs", "libx.a", "b.o"], dir).code).toBe(0);
  expect(counts(step(["ar", "rcs", "libx.a", "c.o"]))).toEqual(MISS);
  expect(bare(["ar", "t", "libx.a"], dir).out).toBe("b.o\nc.o\n");
});

test("an archive with real timestamps (U) is cached and reported with a hint", () => {
  const dir = scenario("nondeterministic");
  const lib = path.join(dir, "libu.a");
  const argv = ["ar", "rcU", "libu.a", "a.o", "b.o"];
  const miss = zcMeasured(argv, dir);
  expect(counts(miss.d)).toEqual(MISS);
  expect(miss.d.hints).toEqual({ "ar-not-deterministic": 1 });
  // Nothing is printed into the build.
  expect(miss.r.out).toBe("");
  expect(miss.r.err).toBe("");
  const stored = fs.readFileSync(lib);
  fs.rmSync(lib);
  const hit = zcMeasured(argv, dir);
  expect(counts(hit.d)).toEqual(HIT);
  expect(hit.d.hints).toEqual({ "ar-not-deterministic": 1 });
  expectSameBytes(fs.readFileSync(lib), stored, "non-deterministic archive (hit)");
  // Deterministic archives carry no hint.
  const det = zcMeasured(["ar", "rcsD", "libd.a", "a.o"], dir);
  expect(det.d.hints).toEqual({});
  const status = env.zc(["status"]);
  expect(status.out).toContain("ar-not-deterministic");
  // The journal carries the hint with the outcome.
  const journal = fs.readFileSync(path.join(env.root, "logs", "compile_journal.jsonl"), "utf8").trim().split("\n");
  const lines = journal.map((l) => JSON.parse(l) as { args: string[]; outcome: string; hints?: string[] });
  const withHint = lines.filter((l) => l.args.includes("libu.a")).map((l) => [l.outcome, l.hints]);
  expect(withHint).toEqual([
    ["miss", ["ar-not-deterministic"]],
    ["hit", ["ar-not-deterministic"]],
  ]);
});

test("listing, extracting and unsafe modifiers run the real ar and are counted", () => {
  const dir = scenario("passthrough");
  expect(bare(["ar", "rcs", "libx.a", "a.o", "b.o"], dir).code).toBe(0);
  const cases: [string[], string][] = [
    [["ar", "t", "libx.a"], "archive-operation"],
    [["ar", "x", "libx.a", "a.o"], "archive-operation"],
    [["ar", "ru", "libx.a", "c.o"], "too-hard"],
    [["ar", "rcs", "libx.a", "missing.o"], "missing-input"],
  ];
  for (const [argv, reason] of cases) {
    const b = bare(argv, dir);
    const z = zcMeasured(argv, dir);
    expect({ argv, ...counts(z.d) }).toEqual({ argv, hits: 0, misses: 0, uncacheable: 1, errors: 0, reasons: { [reason]: 1 } });
    expect(z.d.link).toEqual({ uncacheable: 1 });
    expect({ argv, code: z.r.code, out: z.r.out }).toEqual({ argv, code: b.code, out: b.out });
  }
});

test("hardlink delivery still copies archives, so ar r on the result cannot reach the cache", () => {
  // As root hardlinks fall back to copy: the hardlink path runs as an unprivileged user.
  const hl = CacheEnv.unprivileged({ ZCCACHE_DELIVERY: "hardlink" });
  expect(hl.status().delivery).toBe("hardlink");
  const dir = hl.mkdir("hl");
  for (const n of ["a", "b"]) {
    hl.write(`hl/${n}.c`, `int ${n}(void) { return 1; }\n`);
    expect(bare(["gcc", "-c", `${n}.c`], dir).code).toBe(0);
  }
  const lib = path.join(dir, "libh.a");
  expect(hl.zc(["ar", "rcs", "libh.a", "a.o"], { cwd: dir }).code).toBe(0);
  const original = fs.readFileSync(lib);
  fs.rmSync(lib);
  expect(hl.zc(["ar", "rcs", "libh.a", "a.o"], { cwd: dir }).code).toBe(0);
  expect(fs.statSync(lib).nlink).toBe(1);
  // Editing the delivered archive in place leaves the cached one alone.
  expect(bare(["ar", "rcs", "libh.a", "b.o"], dir).code).toBe(0);
  fs.rmSync(lib);
  expect(hl.zc(["ar", "rcs", "libh.a", "a.o"], { cwd: dir }).code).toBe(0);
  expectSameBytes(fs.readFileSync(lib), original, "archive after an in-place edit of an earlier copy");
  expect(hl.status().hits).toBe(2);
});
