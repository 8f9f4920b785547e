import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CompileFacts } from "../cache/context.ts";
import { UNCACHEABLE_REASONS } from "../stats/outcomes.ts";
import { diffFacts } from "./explain.ts";
import { CompileHistory, type MissRecord } from "./history.ts";
import type { JournalRecord } from "./journal.ts";
import { missParts, pairMisses, rollUp, shownPath, UNCACHEABLE_ADVICE } from "./miss-causes.ts";

const CWD = "/proj";

function facts(over: Partial<CompileFacts> = {}): CompileFacts {
  return {
    compiler: "/usr/bin/gcc",
    compilerHash: "c1",
    cwd: CWD,
    args: ["-c", "x.c", "-o", "x.o"],
    env: [],
    source: { path: "/proj/x.c", hash: "s1" },
    deps: [
      { path: "/proj/inc/a.h", hash: "a1" },
      { path: "/proj/inc/b.h", hash: "b1" },
      { path: "/usr/include/stdio.h", hash: "io1" },
    ],
    ...over,
  };
}

function record(id: number, output: string, atMs: number, prev: CompileFacts | null, cur: CompileFacts | null): MissRecord {
  if (cur === null) return { id, atMs, output, basis: "unknown", causes: [], moreFiles: 0 };
  if (prev === null) return { id, atMs, output, basis: "first", causes: [], moreFiles: 0 };
  return { id, atMs, output, basis: "diff", causes: diffFacts(prev, cur), moreFiles: 0 };
}

function miss(output: string | null, atMs: number, reason = "inputs-changed", language = "c"): JournalRecord {
  return { atMs, outcome: "miss", reason, language, output };
}

const labels = (reason: string, r: MissRecord | null, language = "c"): string[] => missParts(reason, language, r, CWD).map((p) => p.label);

test("paths below the cwd are shown relative to it, others as they are", () => {
  expect(shownPath("/proj/inc/a.h", "/proj")).toBe("inc/a.h");
  expect(shownPath("/project2/a.h", "/proj")).toBe("/project2/a.h");
  expect(shownPath("/usr/include/stdio.h", "/proj")).toBe("/usr/include/stdio.h");
  expect(shownPath("/proj", "/proj")).toBe("/proj");
});

test("each kind of change gets its short name", () => {
  const base = facts();
  const changedA = facts({ deps: base.deps.map((d) => (d.path.endsWith("a.h") ? { ...d, hash: "a2" } : d)) });
  expect(labels("inputs-changed", record(1, "x.o", 0, base, changedA))).toEqual(["header inc/a.h changed"]);
  expect(labels("new-source", record(1, "x.o", 0, base, facts({ args: ["-DNDEBUG", ...base.args] })))).toEqual(["-DNDEBUG added"]);
  expect(labels("new-source", record(1, "x.o", 0, base, facts({ args: [...base.args, "-O3"] })))).toEqual([
    "-O3 added",
  ]);
  const o2 = facts({ args: ["-O2", ...base.args] });
  expect(labels("new-source", record(1, "x.o", 0, o2, facts({ args: ["-O3", ...base.args] })))).toEqual(["-O3 added, -O2 removed"]);
  expect(labels("new-source", record(1, "x.o", 0, base, facts({ source: { path: "/proj/x.c", hash: "s2" } })))).toEqual(["source changed"]);
  expect(labels("new-source", record(1, "x.o", 0, base, facts({ env: ["CPATH=/opt/inc"] })))).toEqual(["environment variable CPATH changed"]);
  expect(labels("new-source", record(1, "x.o", 0, base, facts({ compiler: "/usr/bin/clang" })))).toEqual([
    "compiler changed from /usr/bin/gcc to /usr/bin/clang",
  ]);
  const moreDeps = facts({ deps: [...base.deps, { path: "/proj/inc/c.h", hash: "c1" }] });
  expect(labels("inputs-changed", record(1, "x.o", 0, base, moreDeps))).toEqual(["header inc/c.h now read"]);
  expect(labels("inputs-changed", record(1, "x.o", 0, moreDeps, base))).toEqual(["header inc/c.h no longer read"]);
  // A link's inputs are objects, not headers.
  expect(labels("inputs-changed", record(1, "app", 0, base, changedA), "link")).toEqual(["input inc/a.h changed"]);
  expect(missParts("inputs-changed", "link", record(1, "app", 0, base, changedA), CWD)[0]?.kind).toBe("input");
});

test("a miss with several causes lists them in a fixed order; many files are counted, not named", () => {
  const base = facts();
  const both = facts({ args: ["-DFOO", ...base.args], deps: base.deps.map((d) => (d.path.startsWith("/proj") ? { ...d, hash: "x" } : d)) });
  expect(labels("new-source", record(1, "x.o", 0, base, both))).toEqual(["-DFOO added", "header inc/a.h changed", "header inc/b.h changed"]);
  const all = facts({ deps: [...base.deps.map((d) => ({ ...d, hash: "y" })), { path: "/proj/inc/c.h", hash: "c" }] });
  expect(labels("inputs-changed", record(1, "x.o", 0, base, all))).toEqual([
    "header /usr/include/stdio.h changed",
    "header inc/a.h changed",
    "header inc/b.h changed",
    "1 more header changed",
  ]);
  // Files the miss log left out are counted with the rest.
  const logged = record(1, "x.o", 0, base, both);
  expect(missParts("inputs-changed", "c", { ...logged, moreFiles: 5 }, CWD).map((p) => p.label)).toEqual([
    "-DFOO added",
    "header inc/a.h changed",
    "header inc/b.h changed",
    "5 more headers changed",
  ]);
});

test("misses without a diff say why: first compile, unchanged inputs, nothing recorded, damaged entry", () => {
  expect(labels("new-source", record(1, "x.o", 0, null, facts()))).toEqual(["new source/first compile"]);
  expect(labels("new-source", record(1, "x.o", 0, facts(), facts()))).toEqual([
    "inputs unchanged, cached entry gone (cleared, evicted or never stored)",
  ]);
  expect(labels("new-source", null)).toEqual(["cause not recorded"]);
  expect(labels("new-source", record(1, "x.o", 0, facts(), null))).toEqual(["cause not recorded"]);
  expect(labels("corrupt-entry", record(1, "x.o", 0, facts(), facts()))[0]).toContain("damaged");
});

test("each miss line is paired with the first record of its output stamped at or just after it", () => {
  const f = facts();
  const recs = [record(1, "/p/a.o", 100, null, f), record(2, "/p/b.o", 101, null, f), record(3, "/p/a.o", 200, f, f), record(4, "/p/c.o", 5000, null, f)];
  const lines = [miss("/p/a.o", 100), miss("/p/b.o", 100), miss("/p/a.o", 199), miss("/p/c.o", 10), miss(null, 300), miss("/p/d.o", 300)];
  expect(pairMisses(lines, recs).map((r) => r?.id ?? null)).toEqual([1, 2, 3, null, null, null]);
  // A record older than its line belongs to an earlier line.
  expect(pairMisses([miss("/p/a.o", 150)], recs).map((r) => r?.id ?? null)).toEqual([3]);
});

test("the rollup groups misses by their whole cause, largest first, then by name, and counts the rest", () => {
  const base = facts();
  const aChanged = facts({ deps: base.deps.map((d) => (d.path.endsWith("a.h") ? { ...d, hash: "a2" } : d)) });
  const bChanged = facts({ deps: base.deps.map((d) => (d.path.endsWith("b.h") ? { ...d, hash: "b2" } : d)) });
  const lines: JournalRecord[] = [
    miss("/proj/1.o", 10),
    miss("/proj/2.o", 20),
    miss("/proj/3.o", 30),
    miss("/proj/4.o", 40),
    { atMs: 50, outcome: "hit", reason: null, language: "c", output: "/proj/5.o" },
    { atMs: 55, outcome: "remote-hit", reason: null, language: "c", output: "/proj/6.o" },
    { atMs: 60, outcome: "uncacheable", reason: "stdin-input", language: "other", output: null },
    { atMs: 61, outcome: "uncacheable", reason: "preprocess-only", language: "other", output: null },
    { atMs: 62, outcome: "uncacheable", reason: "stdin-input", language: "other", output: null },
    miss("/proj/7.o", 70, "new-source"),
  ];
  const recs = [
    record(1, "/proj/1.o", 10, base, bChanged),
    record(2, "/proj/2.o", 20, base, aChanged),
    record(3, "/proj/3.o", 30, base, bChanged),
    record(4, "/proj/4.o", 40, base, aChanged),
    record(5, "/proj/7.o", 70, null, base),
  ];
  const r = rollUp("s-1", lines, recs, CWD);
  expect(r.invocations).toBe(10);
  expect(r.hits).toBe(2);
  expect(r.misses).toBe(5);
  expect(r.uncacheable).toBe(3);
  expect(r.miss_causes.map((g) => [g.count, g.cause])).toEqual([
    [2, "header inc/a.h changed"],
    [2, "header inc/b.h changed"],
    [1, "new source/first compile"],
  ]);
  expect(r.miss_causes[0]?.outputs).toEqual(["/proj/2.o", "/proj/4.o"]);
  expect(r.uncacheable_reasons.map((u) => [u.reason, u.count])).toEqual([
    ["stdin-input", 2],
    ["preprocess-only", 1],
  ]);
  expect(r.uncacheable_reasons[0]?.advice).toBe(UNCACHEABLE_ADVICE["stdin-input"]);
});

test("every uncacheable reason has one plain sentence of advice", () => {
  for (const reason of UNCACHEABLE_REASONS) {
    const advice = UNCACHEABLE_ADVICE[reason];
    expect(advice.length).toBeGreaterThan(20);
    expect(advice.endsWith(".")).toBe(true);
    expect(advice.includes("\n")).toBe(false);
  }
});

test("the history logs every miss with what its causes were computed from, and keeps the log on clear", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-misslog-"));
  try {
    const file = path.join(dir, "history.sqlite");
    const h = new CompileHistory(file, undefined);
    const base = facts();
    const changed = facts({ deps: base.deps.map((d) => (d.path.endsWith("a.h") ? { ...d, hash: "a2" } : d)) });
    h.record("/proj/x.o", { kind: "miss", reason: "new-source" }, base, 1_000);
    h.record("/proj/x.o", { kind: "hit" }, base, 2_000);
    h.record("/proj/x.o", { kind: "miss", reason: "inputs-changed" }, changed, 3_000);
    h.record("/proj/y.o", { kind: "miss", reason: "new-source" }, undefined, 3_500);
    h.record("/proj/x.o", { kind: "uncacheable", reason: "compile-failed" }, undefined, 4_000);
    // A miss that changed many files keeps the first four (by path) and counts the others.
    const many = facts({ deps: Array.from({ length: 9 }, (_, i) => ({ path: `/proj/gen/h${i}.h`, hash: "1" })) });
    h.record("/proj/z.o", { kind: "miss", reason: "new-source" }, many, 5_000);
    h.record("/proj/z.o", { kind: "miss", reason: "inputs-changed" }, facts({ deps: many.deps.map((d) => ({ ...d, hash: "2" })) }), 6_000);
    h.clear();
    h.close();
    // Read back by a new instance, as a restarted daemon would.
    const again = new CompileHistory(file, undefined);
    const log = again.missesBetween(0, 10_000);
    expect(log.map((m) => [m.output, m.atMs, m.basis, m.moreFiles])).toEqual([
      ["/proj/x.o", 1_000, "first", 0],
      ["/proj/x.o", 3_000, "diff", 0],
      ["/proj/y.o", 3_500, "unknown", 0],
      ["/proj/z.o", 5_000, "first", 0],
      ["/proj/z.o", 6_000, "diff", 5],
    ]);
    expect(log[4]?.causes.map((c) => c.path)).toEqual(["/proj/gen/h0.h", "/proj/gen/h1.h", "/proj/gen/h2.h", "/proj/gen/h3.h"]);
    expect(missParts("inputs-changed", "c", log[4] ?? null, CWD).map((p) => p.label)).toEqual([
      "header gen/h0.h changed",
      "header gen/h1.h changed",
      "header gen/h2.h changed",
      "6 more headers changed",
    ]);
    expect(log[1]?.causes.map((c) => [c.kind, c.path, c.change])).toEqual([["header", "/proj/inc/a.h", "changed"]]);
    expect(again.missesBetween(1_001, 3_000).map((m) => m.atMs)).toEqual([3_000]);
    again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("queued rows: clear keeps their misses in the log; a lazy hit repeating the row only restamps it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-missqueue-"));
  try {
    const h = new CompileHistory(path.join(dir, "history.sqlite"), undefined);
    const noError = (e: unknown): void => {
      throw e;
    };
    h.recordLater("/proj/q.o", { kind: "miss", reason: "new-source" }, facts(), noError, 1_000);
    h.clear();
    expect(h.missesBetween(0, 10_000).map((m) => [m.output, m.atMs, m.basis])).toEqual([["/proj/q.o", 1_000, "first"]]);

    // Lazy facts: built for the first hit (its fingerprint is new), not for a repeat.
    let built = 0;
    const lazy = (fingerprint: string, f: CompileFacts) => ({
      fingerprint,
      get: () => {
        built++;
        return f;
      },
    });
    h.record("/proj/q.o", { kind: "miss", reason: "new-source" }, facts(), 2_000);
    h.recordLater("/proj/q.o", { kind: "hit" }, lazy("k1", facts()), noError, 3_000);
    h.recordLater("/proj/q.o", { kind: "hit" }, lazy("k1", facts()), noError, 4_000);
    expect(h.explain("/proj/q.o")?.at).toBe(new Date(4_000).toISOString());
    expect(built).toBe(1);
    // Another fingerprint (another entry): its facts are what the row says now.
    const other = facts({ deps: [{ path: "/proj/inc/a.h", hash: "a9" }] });
    h.recordLater("/proj/q.o", { kind: "hit" }, lazy("k2", other), noError, 5_000);
    h.recordLater("/proj/q.o", { kind: "miss", reason: "inputs-changed" }, facts(), noError, 6_000);
    const last = h.missesBetween(6_000, 6_000)[0];
    expect(built).toBe(2);
    expect(last?.causes.map((c) => [c.path, c.change])).toEqual([
      ["/proj/inc/a.h", "changed"],
      ["/proj/inc/b.h", "now-read"],
      ["/usr/include/stdio.h", "now-read"],
    ]);
    h.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
