// Build sessions: `session-start [--journal FILE]`, compiles tagged with ZCCACHE_SESSION_ID
// counted for that session only, `session-stats` / `session-end` reports (hits, misses,
// reasons, time saved), unknown sessions, and the per-session journal.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, tempDir } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

interface SessionReport {
  session_id: string;
  ended: boolean;
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  time_saved_ms: number;
  reasons: Record<string, number>;
  journal: string | null;
  [k: string]: unknown;
}

function startSession(c: CacheEnv, args: string[] = []): string {
  const r = expectOk(c.zc(["session-start", ...args]), "session-start");
  const lines = r.out.split("\n").filter((l) => l !== "");
  expect(lines.length).toBe(1);
  const parsed = JSON.parse(lines[0] as string) as { session_id?: unknown };
  expect(typeof parsed.session_id).toBe("string");
  const id = parsed.session_id as string;
  expect(id.length).toBeGreaterThan(0);
  return id;
}

function report(c: CacheEnv, cmd: "session-stats" | "session-end", id: string): SessionReport {
  const r = expectOk(c.zc([cmd, id, "--json"]), `${cmd} ${id} --json`);
  return JSON.parse(r.out) as SessionReport;
}

// Slow enough to compile that a hit saves measurable time.
const SLOW_CPP = `#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>
int slow_fn(const std::string& s) {
  std::map<std::string, std::vector<int>> m;
  m[s].push_back(static_cast<int>(s.size()));
  std::regex re("[a-z]+[0-9]*");
  std::cout << std::regex_match(s, re) << m.size() << std::endl;
  return static_cast<int>(m[s].size());
}
`;

describe("build sessions", () => {
  const c = new CacheEnv();
  const journalPath = path.join(c.work, "build.jsonl");

  test("compiles tagged with a session are counted for it alone, with time saved", () => {
    c.write("slow.cpp", SLOW_CPP);
    c.write("one.c", "int one_fn(int x) { return x + 1; }\n");
    c.write("two.c", "int two_fn(int x) { return x + 2; }\nint main(void) { return 0; }\n");
    c.write("other.c", "int other_fn(int x) { return x + 3; }\n");

    // A compile before any session: counted globally, not for the session.
    expectOk(c.zc(["gcc", "-c", "other.c", "-o", "other.o"]), "gcc other.c");

    const id = startSession(c, ["--journal", "build.jsonl"]);
    const other = startSession(c);
    expect(other).not.toBe(id);
    const tagged = { ZCCACHE_SESSION_ID: id };

    // The session's build: C++ miss then two hits, C miss then hit, one preprocess-only run.
    expectOk(c.zc(["g++", "-c", "slow.cpp", "-o", "slow.o"], { env: tagged }), "g++ slow.cpp (miss)");
    expectOk(c.zc(["g++", "-c", "slow.cpp", "-o", "slow.o"], { env: tagged }), "g++ slow.cpp (hit)");
    expectOk(c.zc(["g++", "-c", "slow.cpp", "-o", "slow.o"], { env: tagged }), "g++ slow.cpp (hit)");
    expectOk(c.zc(["gcc", "-c", "one.c", "-o", "one.o"], { env: tagged }), "gcc one.c (miss)");
    expectOk(c.zc(["gcc", "-c", "one.c", "-o", "one.o"], { env: tagged }), "gcc one.c (hit)");
    expectOk(c.zc(["gcc", "-c", "two.c", "-o", "two.o"], { env: tagged }), "gcc two.c (miss)");
    expect(expectOk(c.zc(["gcc", "-E", "two.c"], { env: tagged }), "gcc -E").out).toContain("two_fn");

    // Compiles without the variable, or with another session's id, do not count for it.
    expectOk(c.zc(["gcc", "-c", "other.c", "-o", "other.o"]), "gcc other.c (untagged hit)");
    expectOk(c.zc(["gcc", "-c", "one.c", "-o", "one.o"], { env: { ZCCACHE_SESSION_ID: other } }), "gcc one.c (other session)");
    expectOk(c.zc(["gcc", "-c", "other.c", "-o", "other.o"], { env: { ZCCACHE_SESSION_ID: "s-not-a-session" } }), "unknown id");

    const st = report(c, "session-stats", id);
    expect(st.session_id).toBe(id);
    expect(st.ended).toBe(false);
    expect(st.hits).toBe(3);
    expect(st.misses).toBe(3);
    expect(st.uncacheable).toBe(1);
    expect(st.errors).toBe(0);
    expect(st.reasons).toEqual({ "new-source": 3, "preprocess-only": 1 });
    expect(st.time_saved_ms).toBeGreaterThan(0);
    expect(st.journal).toBe(journalPath);

    const st2 = report(c, "session-stats", other);
    expect(st2.hits).toBe(1);
    expect(st2.misses).toBe(0);
    expect(st2.uncacheable).toBe(0);
    expect(st2.reasons).toEqual({});

    // The global counters saw everything.
    const global = c.status();
    expect(global.hits).toBe(3 + 1 + 1 + 1);
    expect(global.misses).toBe(1 + 3);

    // The human report.
    const human = expectOk(c.zc(["session-stats", id]), "session-stats");
    expect(human.out).toContain(id);
    expect(human.out).toMatch(/^hits\s+3$/m);
    expect(human.out).toMatch(/^misses\s+3$/m);
    expect(human.out).toMatch(/^time saved\s+\d+\.\d\d s$/m);
    expect(human.out).toMatch(/^\s+new-source\s+3$/m);

    // session-end reports the same, then the session is gone.
    const end = report(c, "session-end", id);
    expect(end.session_id).toBe(id);
    expect(end.ended).toBe(true);
    expect(end.hits).toBe(3);
    expect(end.misses).toBe(3);
    expect(end.uncacheable).toBe(1);
    expect(end.reasons).toEqual({ "new-source": 3, "preprocess-only": 1 });
    expect(end.time_saved_ms).toBe(st.time_saved_ms);
    const gone = c.zc(["session-stats", id]);
    expect(gone.code).not.toBe(0);
    expect(gone.err).toContain(id);

    // The session's journal: one JSON line per compile of this session, nothing else.
    const lines = fs.readFileSync(journalPath, "utf8").split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(7);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) expect(e.session).toBe(id);
    expect(entries.map((e) => e.outcome)).toEqual(["miss", "hit", "hit", "miss", "hit", "miss", "uncacheable"]);
    expect(entries.map((e) => e.language).slice(0, 6)).toEqual(["c++", "c++", "c++", "c", "c", "c"]);
    expect(entries[6]?.reason).toBe("preprocess-only");
    expect(entries[0]?.output).toBe(path.join(c.work, "slow.o"));
    expect(lines.join("\n")).not.toContain("other.c");

    // Compiles after the end are no longer written to it.
    expectOk(c.zc(["gcc", "-c", "two.c", "-o", "two.o"], { env: tagged }), "gcc two.c after the end");
    expect(fs.readFileSync(journalPath, "utf8").split("\n").filter((l) => l !== "").length).toBe(7);
  });

  test("ending an unknown session is not an error", () => {
    const r = c.zc(["session-end", "s-never-started"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("s-never-started");
    const j = c.zc(["session-end", "s-never-started", "--json"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual({ session_id: "s-never-started", known: false });

    // Also when no daemon is running at all.
    expectOk(c.zc(["stop"]), "stop");
    expect(c.daemonPids()).toEqual([]);
    const none = c.zc(["session-end", "s-never-started"]);
    expect(none.code).toBe(0);

    // session-stats of an unknown session does fail.
    const stats = c.zc(["session-stats", "s-never-started"]);
    expect(stats.code).not.toBe(0);
    expect(stats.err).toContain("s-never-started");
  });

  test("a cache error in a session's compile is counted for the session, with its reason", () => {
    c.write("err.c", "int err_fn(int x) { return x * 1234 + 5; }\n");
    // The object this compile will produce, so its blob's shard directory can be blocked.
    const scratch = tempDir("zc-obs-sess-");
    fs.copyFileSync(path.join(c.work, "err.c"), path.join(scratch, "err.c"));
    expectOk(bare(["gcc", "-c", "err.c", "-o", "err.o"], scratch), "bare gcc err.c");
    const want = fs.readFileSync(path.join(scratch, "err.o"));
    const hash = createHash("sha256").update(want).digest("hex");

    const id = startSession(c);
    const before = c.status(); // the daemon is up, so <root>/blobs exists
    const shard = path.join(c.root, "blobs", hash.slice(0, 2));
    fs.rmSync(shard, { recursive: true, force: true });
    fs.writeFileSync(shard, "not a directory\n");
    try {
      expectOk(c.zc(["gcc", "-c", "err.c", "-o", "err.o"], { env: { ZCCACHE_SESSION_ID: id } }), "gcc err.c");
      expect(c.read("err.o").equals(want)).toBe(true);
    } finally {
      fs.rmSync(shard, { force: true });
    }
    // The daemon counted the store error ...
    const after = c.status();
    expect(after.errors).toBe(before.errors + 1);
    expect(after.reasons["store-write-failed"]).toBe((before.reasons["store-write-failed"] ?? 0) + 1);
    // ... and so does the session whose compile it was.
    const st = report(c, "session-end", id);
    expect(st.misses).toBe(1);
    expect({ errors: st.errors, reasons: st.reasons }).toEqual({ errors: 1, reasons: { "new-source": 1, "store-write-failed": 1 } });
  });
});
