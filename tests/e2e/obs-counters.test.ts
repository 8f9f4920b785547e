// Counters: hits, misses, uncacheable and errors, by language and by reason, persisted across
// a daemon restart, and reset by `zccache stats --zero`.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, type Status, tempDir } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

/** The counter fields of a status report, for comparing two reports. */
function counters(s: Status): Record<string, unknown> {
  return { hits: s.hits, misses: s.misses, uncacheable: s.uncacheable, errors: s.errors, reasons: s.reasons, languages: s.languages };
}

describe("counters", () => {
  const c = new CacheEnv();

  test("hits, misses, uncacheable and errors are counted by language and by reason", () => {
    c.write("a.c", "int a_fn(int x) { return x + 1; }\n");
    c.write("b.c", "int b_fn(int x) { return x + 2; }\nint main(void) { return 0; }\n");
    c.write("p.cpp", "#include <vector>\nint p_fn() { std::vector<int> v{1, 2, 3}; return (int)v.size(); }\n");
    c.write("bad.c", "int bad_fn(void) { return undeclared_thing; }\n");
    c.write("e.c", "int e_fn(int x) { return x * 77 + 5; }\n");

    // C: one miss, two hits.
    for (let i = 0; i < 3; i++) expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "gcc a.c");
    // C++: one miss, one hit.
    for (let i = 0; i < 2; i++) expectOk(c.zc(["g++", "-c", "p.cpp", "-o", "p.o"]), "g++ p.cpp");
    // C compile: a miss of its own.
    expectOk(c.zc(["gcc", "-c", "b.c", "-o", "b.o"]), "gcc b.c");
    // A link and an archive: language "link".
    expectOk(c.zc(["gcc", "a.o", "b.o", "-o", "prog"]), "link");
    expect(fs.existsSync(path.join(c.work, "prog"))).toBe(true);
    expectOk(c.zc(["ar", "rcs", "liba.a", "a.o"]), "ar");
    expect(fs.existsSync(path.join(c.work, "liba.a"))).toBe(true);
    // Preprocess only: uncacheable.
    const pp = expectOk(c.zc(["gcc", "-E", "a.c"]), "gcc -E");
    expect(pp.out).toContain("a_fn");
    // A failing compile: uncacheable (compile-failed), the error is shown, the exit code kept.
    const failed = c.zc(["gcc", "-c", "bad.c", "-o", "bad.o"]);
    expect(failed.code).not.toBe(0);
    expect(failed.err).toContain("undeclared_thing");

    // A store write that fails is an error (the compile itself still succeeds): put a plain
    // file where the blob's shard directory must go.
    const scratch = tempDir("zc-obs-err-");
    fs.copyFileSync(path.join(c.work, "e.c"), path.join(scratch, "e.c"));
    expectOk(bare(["gcc", "-c", "e.c", "-o", "e.o"], scratch), "bare gcc e.c");
    const eObj = fs.readFileSync(path.join(scratch, "e.o"));
    const hash = createHash("sha256").update(eObj).digest("hex");
    const shard = path.join(c.root, "blobs", hash.slice(0, 2));
    fs.rmSync(shard, { recursive: true, force: true });
    fs.writeFileSync(shard, "not a directory\n");
    try {
      expectOk(c.zc(["gcc", "-c", "e.c", "-o", "e.o"]), "gcc e.c with an unwritable blob shard");
      expect(c.read("e.o").equals(eObj)).toBe(true);
    } finally {
      fs.rmSync(shard, { force: true });
    }

    const st = c.status();
    // Links and archives are counted under "link". Whether they are cached (a miss, later
    // hits) or not (uncacheable) is up to the link support, so their row is checked by its
    // total and the other numbers net of it.
    const link = st.languages.link ?? { hits: 0, misses: 0, uncacheable: 0, errors: 0 };
    expect(link.hits + link.misses + link.uncacheable + link.errors).toBe(2);
    expect(link.errors).toBe(0);
    expect(st.hits - link.hits).toBe(3);
    expect(st.misses - link.misses).toBe(4); // a.c, p.cpp, b.c, e.c
    expect(st.uncacheable - link.uncacheable).toBe(2); // -E, compile-failed
    expect(st.errors).toBe(1);
    expect(st.languages.c).toEqual({ hits: 2, misses: 3, uncacheable: 1, errors: 0 });
    expect(st.languages["c++"]).toEqual({ hits: 1, misses: 1, uncacheable: 0, errors: 0 });
    // Every miss, uncacheable run and error has exactly one reason.
    let reasonTotal = 0;
    for (const n of Object.values(st.reasons)) reasonTotal += n;
    expect(reasonTotal).toBe(st.misses + st.uncacheable + st.errors);
    expect(st.reasons["new-source"]).toBe(4 + link.misses);
    expect(st.reasons["preprocess-only"]).toBe(1);
    expect(st.reasons["compile-failed"]).toBe(1);
    expect(st.reasons["store-write-failed"]).toBe(1);
    if (link.uncacheable > 0) {
      const linkReasons = Object.keys(st.reasons).filter((r) => !["new-source", "preprocess-only", "compile-failed", "store-write-failed"].includes(r));
      expect(linkReasons.length).toBeGreaterThan(0);
    }
    // Whatever the languages of -E and of the store error, the per-language rows add up.
    let sum = { hits: 0, misses: 0, uncacheable: 0, errors: 0 };
    for (const row of Object.values(st.languages)) {
      sum = {
        hits: sum.hits + row.hits,
        misses: sum.misses + row.misses,
        uncacheable: sum.uncacheable + row.uncacheable,
        errors: sum.errors + row.errors,
      };
    }
    expect(sum).toEqual({ hits: st.hits, misses: st.misses, uncacheable: st.uncacheable, errors: 1 });

    // The human status shows the same numbers and the reasons.
    const human = expectOk(c.zc(["status"]), "status");
    expect(human.out).toMatch(new RegExp(`^hits\\s+${st.hits}$`, "m"));
    expect(human.out).toMatch(new RegExp(`^misses\\s+${st.misses}$`, "m"));
    expect(human.out).toMatch(new RegExp(`^uncacheable\\s+${st.uncacheable}$`, "m"));
    expect(human.out).toMatch(/^errors\s+1$/m);
    expect(human.out).toMatch(/^\s+compile-failed\s+1$/m);
    expect(human.out).toMatch(/^\s+store-write-failed\s+1$/m);
  });

  test("counters survive a daemon restart", () => {
    const before = c.status();
    expect(before.hits + before.misses).toBeGreaterThan(0);
    const stop = expectOk(c.zc(["stop"]), "stop");
    expect(stop.out).toContain(`pid ${before.pid}`);
    expect(c.daemonPids()).toEqual([]);

    const after = c.status(); // starts a new daemon
    expect(after.pid).not.toBe(before.pid);
    expect(counters(after)).toEqual(counters(before));

    // And they keep counting from there.
    expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "gcc a.c");
    const more = c.status();
    expect(more.hits).toBe(before.hits + 1);
    expect(more.languages.c?.hits).toBe((before.languages.c?.hits ?? 0) + 1);
  });

  test("stats --zero resets every counter, also across a restart; the store is kept", () => {
    const before = c.status();
    expect(before.entries).toBeGreaterThan(0);
    const r = expectOk(c.zc(["stats", "--zero"]), "stats --zero");
    expect(r.out).toContain("zeroed");
    const zeroed = c.status();
    expect(counters(zeroed)).toEqual({ hits: 0, misses: 0, uncacheable: 0, errors: 0, reasons: {}, languages: {} });
    expect(zeroed.entries).toBe(before.entries);
    expect(zeroed.pid).toBe(before.pid);

    expectOk(c.zc(["stop"]), "stop");
    const restarted = c.status();
    expect(restarted.pid).not.toBe(before.pid);
    expect(counters(restarted)).toEqual({ hits: 0, misses: 0, uncacheable: 0, errors: 0, reasons: {}, languages: {} });

    // The store survived the reset: the next compile of a.c is a hit.
    expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "gcc a.c");
    const st = c.status();
    expect(st.hits).toBe(1);
    expect(st.misses).toBe(0);
    expect(st.languages).toEqual({ c: { hits: 1, misses: 0, uncacheable: 0, errors: 0 } });

    const bad = c.zc(["stats"]);
    expect(bad.code).not.toBe(0);
  });
});
