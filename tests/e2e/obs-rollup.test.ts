// `zccache explain --session ID`: a session's misses grouped by cause, largest group first,
// read from the journal (so it survives a daemon restart); uncacheable invocations with
// advice; `--json`; an unknown session is a one-line error.
import { afterAll, describe, expect, test } from "bun:test";
import * as path from "node:path";
import { CacheEnv, type RunResult, sleepMs } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

interface Rollup {
  session_id: string;
  invocations: number;
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  miss_causes: { count: number; cause: string; parts: { kind: string; label: string }[]; outputs: string[] }[];
  uncacheable_reasons: { reason: string; count: number; advice: string }[];
  error_reasons: { reason: string; count: number; advice: string }[];
}

/**
 * Inputs changed within the last ~2 s are not trusted by their stat (the racy window; ctime
 * cannot be back-dated), so each round of edits settles before the build that reads it.
 */
const settle = (): Promise<void> => sleepMs(2_500);

// Which headers each source includes: some a.h, some b.h, some both, some neither.
const SOURCES: Record<string, readonly string[]> = {
  a1: ["a.h"],
  a2: ["a.h"],
  a3: ["a.h"],
  b1: ["b.h"],
  b2: ["b.h"],
  b3: ["b.h"],
  ab1: ["a.h", "b.h"],
  ab2: ["a.h", "b.h"],
  n1: [],
  n2: [],
};

describe("explain --session", () => {
  const c = new CacheEnv({ CPATH: undefined, C_INCLUDE_PATH: undefined, CPLUS_INCLUDE_PATH: undefined });
  const startSession = (): string => {
    const out = expectOk(c.zc(["session-start"]), "session-start").out;
    return (JSON.parse(out) as { session_id: string }).session_id;
  };
  const build = (id: string, name: string, extra: string[] = []): void => {
    expectOk(c.zc(["gcc", ...extra, "-c", `${name}.c`, "-o", `${name}.o`], { env: { ZCCACHE_SESSION_ID: id } }), `gcc ${name}.c`);
  };
  const rollupJson = (id: string): Rollup => JSON.parse(expectOk(c.zc(["explain", "--session", id, "--json"]), "explain --json").out) as Rollup;
  const obj = (name: string): string => path.join(c.work, `${name}.o`);
  let first = "";
  let second = "";

  test("edits to two headers and an added define are rolled up exactly", async () => {
    c.write("inc/a.h", "#define A_VALUE 1\n");
    c.write("inc/b.h", "#define B_VALUE 1\n");
    for (const [name, headers] of Object.entries(SOURCES)) {
      const includes = headers.map((h) => `#include "inc/${h}"\n`).join("");
      c.write(`${name}.c`, `${includes}int ${name}_fn(void) { return ${headers.length}; }\n`);
    }
    await settle();
    first = startSession();
    for (const name of Object.keys(SOURCES)) build(first, name);

    c.write("inc/a.h", "#define A_VALUE 2\n");
    c.write("inc/b.h", "#define B_VALUE 2\n");
    await settle();
    second = startSession();
    for (const name of Object.keys(SOURCES)) build(second, name, name === "n1" ? ["-DFOO"] : []);
    // Two uncacheable invocations: preprocessing only, and a source on stdin.
    expectOk(c.zc(["gcc", "-E", "n2.c", "-o", "n2.i"], { env: { ZCCACHE_SESSION_ID: second } }), "gcc -E");
    expectOk(
      c.zc(["gcc", "-x", "c", "-c", "-", "-o", "stdin.o"], { env: { ZCCACHE_SESSION_ID: second }, stdin: "int s_fn(void) { return 1; }\n" }),
      "gcc stdin",
    );

    const text = expectOk(c.zc(["explain", "--session", second]), "explain --session").out;
    const lines = text.split("\n").filter((l) => l !== "");
    expect(lines[0]).toBe(`session ${second}: 12 invocations, 1 hit, 9 misses, 2 uncacheable`);
    expect(lines.slice(1, 6)).toEqual([
      "misses by cause:",
      "  3 of 9 misses: header inc/a.h changed",
      "  3: header inc/b.h changed",
      "  2: header inc/a.h changed + header inc/b.h changed",
      "  1: -DFOO added",
    ]);
    expect(lines[6]).toBe("uncacheable:");
    expect(lines[7]).toStartWith("  1 preprocess-only: ");
    expect(lines[8]).toStartWith("  1 stdin-input: ");
    expect(lines[8]).toContain("write it to a file");
    expect(lines.length).toBe(9);

    // The first build: every source was new.
    const firstText = expectOk(c.zc(["explain", "--session", first]), "explain --session (first)").out;
    expect(firstText.split("\n").filter((l) => l !== "")).toEqual([
      `session ${first}: 10 invocations, 0 hits, 10 misses, 0 uncacheable`,
      "misses by cause:",
      "  10 of 10 misses: new source/first compile",
    ]);
  }, 120_000);

  test("--json gives every group with its parts and outputs, and each reason with advice", () => {
    const j = rollupJson(second);
    expect(Object.keys(j).sort()).toEqual(
      ["errors", "error_reasons", "hits", "invocations", "miss_causes", "misses", "session_id", "uncacheable", "uncacheable_reasons"].sort(),
    );
    expect([j.session_id, j.invocations, j.hits, j.misses, j.uncacheable, j.errors]).toEqual([second, 12, 1, 9, 2, 0]);
    expect(j.miss_causes).toEqual([
      { count: 3, cause: "header inc/a.h changed", parts: [{ kind: "header", label: "header inc/a.h changed" }], outputs: ["a1", "a2", "a3"].map(obj) },
      { count: 3, cause: "header inc/b.h changed", parts: [{ kind: "header", label: "header inc/b.h changed" }], outputs: ["b1", "b2", "b3"].map(obj) },
      {
        count: 2,
        cause: "header inc/a.h changed + header inc/b.h changed",
        parts: [
          { kind: "header", label: "header inc/a.h changed" },
          { kind: "header", label: "header inc/b.h changed" },
        ],
        outputs: ["ab1", "ab2"].map(obj),
      },
      { count: 1, cause: "-DFOO added", parts: [{ kind: "argument", label: "-DFOO added" }], outputs: [obj("n1")] },
    ]);
    expect(j.uncacheable_reasons.map((r) => [r.reason, r.count])).toEqual([
      ["preprocess-only", 1],
      ["stdin-input", 1],
    ]);
    for (const r of j.uncacheable_reasons) expect(r.advice).toMatch(/^[A-Z-].{20,}\.$/);
    expect(j.error_reasons).toEqual([]);
  });

  test("paths are shown relative to the asking directory only when below it", () => {
    const sub = c.mkdir("elsewhere");
    const j = JSON.parse(expectOk(c.zc(["explain", "--session", second, "--json"], { cwd: sub }), "explain from elsewhere").out) as Rollup;
    expect(j.miss_causes[0]?.cause).toBe(`header ${path.join(c.work, "inc", "a.h")} changed`);
  });

  test("it works from the journal after the daemon restarted", () => {
    const before = rollupJson(second);
    const pid = c.status().pid;
    expectOk(c.zc(["stop"]), "stop");
    const after = rollupJson(second);
    expect(c.status().pid).not.toBe(pid);
    expect(after).toEqual(before);
    expect(rollupJson(first).miss_causes.map((g) => [g.count, g.cause])).toEqual([[10, "new source/first compile"]]);
  });

  test("an unknown session is one clear line and a non-zero exit; a new one reports nothing yet", () => {
    for (const args of [["explain", "--session", "s-never-started"], ["explain", "--session", "s-never-started", "--json"]]) {
      const r = c.zc(args);
      expect(r.code).toBe(1);
      expect(r.out).toBe("");
      const lines = r.err.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(1);
      expect(lines[0]).toContain("no session s-never-started");
    }
    const bad = c.zc(["explain", "--session"]);
    expect(bad.code).toBe(2);
    const fresh = startSession();
    const j = rollupJson(fresh);
    expect([j.invocations, j.misses, j.miss_causes.length]).toEqual([0, 0, 0]);
  });
});
