// Verified hits: with ZCCACHE_VERIFY_RATE a share of hits is compiled again in the background
// and compared byte for byte; a wrong entry is quarantined and replaced by the next compile.
// `zccache verify --session` re-checks every hit of a session on demand.
//
// The wrong entry is made through a channel the key cannot see: a compiler wrapper script
// (its content is in the key) that adds -DEVIL=1 while a marker file exists elsewhere.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, requireTool, type Status, tempDir } from "../helpers.ts";
import { bareObject, diff, expectOk, outcomeOf, readOrNull, waitUntil } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

/** Background verifications run at nice 19 on a busy machine: wait generously. */
const VERIFY_WAIT_MS = 90_000;

const HAVE_GCC = requireTool("gcc", "verified hits");

/** A source whose object differs with -DEVIL=1. */
function evilSensitive(name: string, good: number): string {
  return `int ${name}(void) {\n#ifdef EVIL\n  return 666;\n#else\n  return ${good};\n#endif\n}\n`;
}

/** Inputs an hour old: nothing about them is racy when the cache looks. */
function backDate(...paths: string[]): void {
  const t = Date.now() / 1000 - 3600;
  for (const p of paths) fs.utimesSync(p, t, t);
}

function verifyCounts(s: Status): Record<string, number> {
  return (s.verify ?? {}) as Record<string, number>;
}

function journalLines(c: CacheEnv): Record<string, unknown>[] {
  const text = readOrNull(path.join(c.root, "logs", "compile_journal.jsonl"))?.toString("utf8") ?? "";
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.if(HAVE_GCC)("verified hits", () => {
  const c = new CacheEnv({ ZCCACHE_VERIFY_RATE: undefined, ZCCACHE_SESSION_ID: undefined });
  const markerDir = tempDir("zc-verify-marker-");
  const marker = path.join(markerDir, "evil");
  const wrapper = c.write(
    "evil-gcc",
    `#!/bin/sh\nif [ -e '${marker}' ]; then exec gcc -DEVIL=1 "$@"; fi\nexec gcc "$@"\n`,
  );
  fs.chmodSync(wrapper, 0o755);
  backDate(wrapper);

  /** `zccache ./evil-gcc -c SRC -o OBJ [extra…]` with the status delta across it. */
  function evilCompile(src: string, extraEnv: Record<string, string | undefined> = {}, extra: readonly string[] = []): string {
    const before = c.status();
    expectOk(c.zc(["./evil-gcc", "-c", src, "-o", src.replace(/\.c$/, ".o"), ...extra], { env: extraEnv }), `evil-gcc ${src}`);
    return outcomeOf(diff(before, c.status()));
  }

  test("a wrong entry is found by a background verification, quarantined, and replaced by the next compile", async () => {
    const src = c.write("a.c", evilSensitive("a_fn", 1));
    backDate(src);
    const good = bareObject(c.work, "a.c");

    fs.writeFileSync(marker, "");
    expect(evilCompile("a.c")).toBe("miss:new-source");
    const evil = c.read("a.o");
    expect(evil.equals(good)).toBe(false);
    fs.rmSync(marker);

    const before = verifyCounts(c.status());
    // The hit delivers the stale object: the key cannot know about the marker.
    expect(evilCompile("a.c", { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    expect(c.read("a.o").equals(evil)).toBe(true);

    const found = await waitUntil(() => (verifyCounts(c.status())["verify-mismatch"] ?? 0) > (before["verify-mismatch"] ?? 0), VERIFY_WAIT_MS);
    expect(found).toBe(true);
    const st = c.status();
    expect(verifyCounts(st)["verify-mismatch"]).toBe((before["verify-mismatch"] ?? 0) + 1);
    expect(verifyCounts(st).verified).toBe(before.verified ?? 0);
    expect(st.quarantined).toBe(1);
    expect(expectOk(c.zc(["status"]), "status").out).toMatch(/^verify +0 verified, 1 MISMATCHED, .*\nquarantined +1 entries/m);

    // The journal names what differed: which output, and where.
    const record = journalLines(c).find((l) => l.outcome === "verify-mismatch");
    expect(record).toBeDefined();
    expect(record?.output).toBe(path.join(c.work, "a.o"));
    expect(String(record?.reason)).toMatch(new RegExp(`^object ${path.join(c.work, "a.o")} differs at byte \\d+`));
    const differences = (record?.verify as { differences: { role: string; offset: number }[] }).differences;
    expect(differences.map((d) => d.role)).toEqual(["object"]);
    let firstDiff = 0;
    while (evil[firstDiff] === good[firstDiff]) firstDiff++;
    expect(differences[0]?.offset).toBe(firstDiff);

    // Quarantined: the next compile misses and stores what the compiler gives now…
    expect(evilCompile("a.c")).toBe("miss:quarantined");
    expect(c.read("a.o").equals(good)).toBe(true);
    // explain says why that compile missed.
    expect(expectOk(c.zc(["explain", "a.o"]), "explain").out).toContain("proved wrong by a verification");
    // …and that new entry is served (the quarantine covers only the wrong one).
    fs.rmSync(path.join(c.work, "a.o"));
    expect(evilCompile("a.c")).toBe("hit");
    expect(c.read("a.o").equals(good)).toBe(true);
    expect(c.status().quarantined).toBe(1);
  });

  test("verify_rate 0 never verifies; a correct hit verifies ok", async () => {
    const src = c.write("b.c", evilSensitive("b_fn", 2));
    backDate(src);
    const start = verifyCounts(c.status());
    expect(evilCompile("b.c", { ZCCACHE_VERIFY_RATE: "0" })).toBe("miss:new-source");
    expect(evilCompile("b.c", { ZCCACHE_VERIFY_RATE: "0" })).toBe("hit");
    expect(evilCompile("b.c")).toBe("hit");
    // One hit asks; verifications run in order, so a verification of the earlier hits would be counted first.
    expect(evilCompile("b.c", { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    const done = await waitUntil(() => (verifyCounts(c.status()).verified ?? 0) > (start.verified ?? 0), VERIFY_WAIT_MS);
    expect(done).toBe(true);
    const end = verifyCounts(c.status());
    expect(end.verified).toBe((start.verified ?? 0) + 1);
    for (const k of Object.keys(end)) if (k !== "verified") expect({ k, n: end[k] }).toEqual({ k, n: start[k] ?? 0 });
    expect(c.status().verify_pending).toBe(0);
    expect(c.read("b.o").equals(bareObject(c.work, "b.c"))).toBe(true);
  });

  test("a compiler that does not reproduce itself is counted as nondeterministic, not as a mismatch", async () => {
    // Every run bakes its own PID into the object.
    const flaky = c.write("flaky-gcc", '#!/bin/sh\nexec gcc -DSEED=$$ "$@"\n');
    fs.chmodSync(flaky, 0o755);
    backDate(flaky, c.write("f.c", "int seed = SEED;\n"));
    const start = c.status();
    expectOk(c.zc(["./flaky-gcc", "-c", "f.c", "-o", "f.o"]), "flaky-gcc");
    const mid = c.status();
    expect(outcomeOf(diff(start, mid))).toBe("miss:new-source");
    expectOk(c.zc(["./flaky-gcc", "-c", "f.c", "-o", "f.o"], { env: { ZCCACHE_VERIFY_RATE: "1" } }), "flaky-gcc again");
    expect(outcomeOf(diff(mid, c.status()))).toBe("hit");
    const before = verifyCounts(start);
    const seen = await waitUntil(
      () => (verifyCounts(c.status())["verify-nondeterministic"] ?? 0) > (before["verify-nondeterministic"] ?? 0),
      VERIFY_WAIT_MS,
    );
    expect(seen).toBe(true);
    const end = c.status();
    expect(verifyCounts(end)["verify-mismatch"]).toBe(before["verify-mismatch"] ?? 0);
    expect(end.quarantined).toBe(start.quarantined);
    expect(journalLines(c).filter((l) => l.outcome === "verify-nondeterministic").map((l) => l.output)).toEqual([path.join(c.work, "f.o")]);
    const before2 = c.status();
    expectOk(c.zc(["./flaky-gcc", "-c", "f.c", "-o", "f.o"]), "flaky-gcc, third");
    expect(outcomeOf(diff(before2, c.status()))).toBe("hit");
  });

  test("compiles that cannot be verified are counted apart", async () => {
    const src = c.write("n.c", "int n_fn(int x) { return x * 5; }\n");
    backDate(src);
    const start = verifyCounts(c.status());
    // -fstack-usage writes the output's name into n.su: a compile into scratch would differ by construction.
    expect(evilCompile("n.c", {}, ["-fstack-usage"])).toBe("miss:new-source");
    expect(evilCompile("n.c", { ZCCACHE_VERIFY_RATE: "1" }, ["-fstack-usage"])).toBe("hit");
    // An archive (a "link"): not verified yet.
    const lib = path.join(c.work, "libn.a");
    expectOk(c.zc(["ar", "rcs", "libn.a", "n.o"]), "ar");
    fs.rmSync(lib);
    const before = c.status();
    expectOk(c.zc(["ar", "rcs", "libn.a", "n.o"], { env: { ZCCACHE_VERIFY_RATE: "1" } }), "ar again");
    expect(outcomeOf(diff(before, c.status()))).toBe("hit");
    const counted = await waitUntil(() => (verifyCounts(c.status())["not-verifiable"] ?? 0) > (start["not-verifiable"] ?? 0), VERIFY_WAIT_MS);
    expect(counted).toBe(true);
    const end = verifyCounts(c.status());
    expect(end["not-verifiable"]).toBe((start["not-verifiable"] ?? 0) + 1);
    expect(end["verify-unsupported"]).toBe((start["verify-unsupported"] ?? 0) + 1);
    expect([end.verified, end["verify-mismatch"]]).toEqual([start.verified ?? 0, start["verify-mismatch"] ?? 0]);
  });

  test("a bad ZCCACHE_VERIFY_RATE is refused with one line, and the compile still runs", () => {
    c.write("r.c", "int r_fn(void) { return 3; }\n");
    for (const bad of ["2", "-0.5", "often", "10%"]) {
      const before = c.status();
      const r = c.zc(["gcc", "-c", "r.c", "-o", "r.o"], { env: { ZCCACHE_VERIFY_RATE: bad } });
      expect(r.code).toBe(0);
      const lines = r.err.split("\n").filter((l) => l !== "");
      expect({ bad, lines }).toEqual({
        bad,
        lines: [`zccache: ZCCACHE_VERIFY_RATE: expected a fraction from 0 to 1 (e.g. 0.01), got '${bad}'; compiling without the cache`],
      });
      expect(diff(before, c.status()).misses + diff(before, c.status()).hits).toBe(0);
      expect(fs.existsSync(path.join(c.work, "r.o"))).toBe(true);
    }
  });

  test("verify --session re-checks every hit of a session: a mismatch exits 1, a correct hit is ok", () => {
    const started = expectOk(c.zc(["session-start"]), "session-start");
    const id = (JSON.parse(started.out) as { session_id: string }).session_id;
    const session = { ZCCACHE_SESSION_ID: id };
    backDate(c.write("s.c", evilSensitive("s_fn", 4)), c.write("t.c", evilSensitive("t_fn", 5)));

    fs.writeFileSync(marker, "");
    expect(evilCompile("s.c", session, ["-MD"])).toBe("miss:new-source");
    fs.rmSync(marker);
    expect(evilCompile("t.c", session, ["-MD"])).toBe("miss:new-source");
    expect(evilCompile("s.c", session, ["-MD"])).toBe("hit");
    expect(evilCompile("t.c", session, ["-MD"])).toBe("hit");

    const r = c.zc(["verify", "--session", id]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: "" });
    const lines = r.out.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^MISMATCH +s\\.o: object ${path.join(c.work, "s.o")} differs at byte \\d+ \\(on disk \\d+ B, fresh \\d+ B\\)$`));
    expect(lines[1]).toMatch(/^ok +t\.o$/);
    expect(lines[2]).toBe(`session ${id}: 2 outputs from 2 hits: 1 ok, 1 MISMATCHED, 0 nondeterministic, 0 skipped`);

    const j = c.zc(["verify", "--session", id, "--json"]);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.out) as { results: { output: string; status: string }[] };
    expect(report.results.map((x) => [path.basename(x.output), x.status])).toEqual([
      ["s.o", "mismatch"],
      ["t.o", "ok"],
    ]);
    // Nothing of the build's tree was written by the checks.
    expect(c.read("s.o").equals(bareObject(c.work, "s.c"))).toBe(false);

    const unknown = c.zc(["verify", "--session", "s-no-such-session"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err.split("\n").filter((l) => l !== "")).toEqual([
      "zccache: no session s-no-such-session in the compile journal (never started, or rotated out)",
    ]);
    expect(c.zc(["verify"]).code).toBe(2);
  });
});
