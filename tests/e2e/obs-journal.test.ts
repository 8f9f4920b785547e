// The compile journal (<root>/logs/compile_journal.jsonl): one JSON line per compile or link
// with its fields; secrets in a compile's environment reach no file under the cache root;
// the daemon's log file is under the cache root and `status` says where.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, type RunResult } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

const SECRET = "hunter2-topsecret";
const AWS_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzz-obs";
const SECRET_ENV = { ZCCACHE_TEST_SECRET: SECRET, AWS_SECRET_ACCESS_KEY: AWS_SECRET };

function journalLines(root: string): Record<string, unknown>[] {
  const file = path.join(root, "logs", "compile_journal.jsonl");
  const text = fs.readFileSync(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) out.push(...allFiles(p));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}

const FIELDS = ["ts", "outcome", "reason", "compiler", "args", "cwd", "exit_code", "latency_ms", "session", "language", "output"];

describe("compile journal", () => {
  // Debug logging: the most the daemon ever writes.
  const c = new CacheEnv({ ZCCACHE_LOG_LEVEL: "debug" });

  test("every compile and link appends one JSON line with its facts", () => {
    c.write("j.c", "int j_fn(int x) { return x * 3; }\nint main(void) { return j_fn(1) - 3; }\n");
    c.write("k.cpp", "int k_fn(int x) { return x * 4; }\n");
    c.write("bad.c", "int broken(void) { return nope; }\n");

    // The very first command starts the daemon, with the secrets in its environment too.
    expectOk(c.zc(["gcc", "-c", "j.c", "-o", "j.o"], { env: SECRET_ENV }), "gcc j.c (miss)");
    expectOk(c.zc(["gcc", "-c", "j.c", "-o", "j.o"], { env: SECRET_ENV }), "gcc j.c (hit)");
    expectOk(c.zc(["g++", "-O1", "-c", "k.cpp", "-o", "k.o"], { env: SECRET_ENV }), "g++ k.cpp");
    expectOk(c.zc(["gcc", "j.o", "-o", "jprog"], { env: SECRET_ENV }), "link");
    const bad = c.zc(["gcc", "-c", "bad.c", "-o", "bad.o"], { env: SECRET_ENV });
    expect(bad.code).not.toBe(0);
    // A session's compile, with a session journal outside the cache root.
    const sid = JSON.parse(expectOk(c.zc(["session-start", "--journal", "session.jsonl"], { env: SECRET_ENV }), "session-start").out)
      .session_id as string;
    expectOk(
      c.zc(["gcc", "-c", "j.c", "-o", "j.o"], { env: { ...SECRET_ENV, ZCCACHE_SESSION_ID: sid, CPATH: "/nonexistent-inc" } }),
      "gcc j.c in a session",
    );

    const lines = journalLines(c.root);
    expect(lines.length).toBe(6);
    for (const l of lines) {
      for (const f of FIELDS) expect(`${f}: ${f in l}`).toBe(`${f}: true`);
      expect(Number.isNaN(Date.parse(l.ts as string))).toBe(false);
      expect(typeof l.latency_ms).toBe("number");
      expect(l.latency_ms as number).toBeGreaterThanOrEqual(0);
      expect(l.cwd).toBe(c.work);
      expect(Array.isArray(l.args)).toBe(true);
    }
    const [miss, hit, cpp, link, failed, inSession] = lines as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    const jObj = path.join(c.work, "j.o");

    expect(miss).toMatchObject({ outcome: "miss", reason: "new-source", compiler: "gcc", language: "c", exit_code: 0, session: null, output: jObj });
    expect(miss.args).toEqual(["-c", "j.c", "-o", "j.o"]);
    expect(hit).toMatchObject({ outcome: "hit", reason: null, compiler: "gcc", language: "c", exit_code: 0, session: null, output: jObj });
    expect(cpp).toMatchObject({ outcome: "miss", compiler: "g++", language: "c++", exit_code: 0, output: path.join(c.work, "k.o") });
    expect(cpp.args).toEqual(["-O1", "-c", "k.cpp", "-o", "k.o"]);
    // Whether a link is cached is up to the link support; its line is there either way.
    expect(link).toMatchObject({ compiler: "gcc", language: "link", session: null });
    expect(["hit", "miss", "uncacheable"]).toContain(link.outcome as string);
    if (link.outcome === "uncacheable") expect(typeof link.reason).toBe("string");
    expect(link.args).toEqual(["j.o", "-o", "jprog"]);
    expect(failed).toMatchObject({ outcome: "uncacheable", reason: "compile-failed", language: "c", output: path.join(c.work, "bad.o") });
    expect(failed.exit_code).toBe(bad.code);
    expect(inSession).toMatchObject({ session: sid, compiler: "gcc", language: "c", output: jObj });
    // The compile variables gcc reads are recorded; nothing else from the environment.
    expect(JSON.stringify(inSession)).toContain("/nonexistent-inc");

    // The session journal got its one line, the same as the main journal's.
    const sessionLines = fs.readFileSync(path.join(c.work, "session.jsonl"), "utf8").split("\n").filter((l) => l !== "");
    expect(sessionLines.length).toBe(1);
    expect(JSON.parse(sessionLines[0] as string)).toEqual(inSession);
  });

  test("secrets in a compile's environment appear nowhere under the cache root", () => {
    // Flush and close everything the daemon holds (SQLite WAL, counters, logs).
    expectOk(c.zc(["stop"]), "stop");
    const files = allFiles(c.root);
    expect(files).toContain(path.join(c.root, "logs", "compile_journal.jsonl"));
    expect(files).toContain(path.join(c.root, "logs", "daemon.log"));
    expect(files.some((f) => f.endsWith(".sqlite"))).toBe(true);
    const leaks: string[] = [];
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      for (const s of [SECRET, AWS_SECRET, "ZCCACHE_TEST_SECRET", "AWS_SECRET_ACCESS_KEY"]) {
        if (bytes.includes(Buffer.from(s))) leaks.push(`${f}: ${s}`);
      }
    }
    expect(leaks).toEqual([]);
    const session = fs.readFileSync(path.join(c.work, "session.jsonl"));
    expect(session.includes(Buffer.from(SECRET))).toBe(false);
    expect(session.includes(Buffer.from(AWS_SECRET))).toBe(false);
  });
});

describe("daemon log", () => {
  const c = new CacheEnv();

  test("the daemon logs to a file under the cache root, and status says where", () => {
    c.write("l.c", "int l_fn(void) { return 7; }\n");
    expectOk(c.zc(["gcc", "-c", "l.c", "-o", "l.o"]), "gcc l.c");
    const st = c.status();
    const logFile = st.log_file as string;
    expect(typeof logFile).toBe("string");
    expect(path.dirname(logFile)).toBe(path.join(c.root, "logs"));
    expect(fs.existsSync(logFile)).toBe(true);
    const text = fs.readFileSync(logFile, "utf8");
    expect(text.length).toBeGreaterThan(0);
    expect(text).toContain(`pid=${st.pid}`);

    const human = expectOk(c.zc(["status"]), "status");
    expect(human.out).toContain(logFile);
  });
});
