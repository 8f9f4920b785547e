// Private daemons and the lifecycle log end to end: `start --owner-pid` and ZCCACHE_OWNER_PID
// tie a daemon to processes (it exits once all have exited), bad owners start nothing, and
// <root>/logs/lifecycle.jsonl records start, owners, stop, idle exit, hand-over and recovery
// from a kill -9.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Subprocess } from "bun";
import { CacheEnv, exited, exitedAllThreads } from "../helpers.ts";
import { bareObject, compileIn, expectOk, waitUntil } from "../assertions.ts";

/** The daemon checks its owners every 2 s; generous for a loaded machine. */
const EXIT_WAIT_MS = 30_000;

const owners: Subprocess[] = [];

afterAll(() => {
  for (const p of owners) p.kill("SIGKILL");
  CacheEnv.stopAll();
});

/** A process to own a daemon: `sleep 300`, killed by its PID when the test says so. */
function owner(): number {
  const p = Bun.spawn(["sleep", "300"], { stdio: ["ignore", "ignore", "ignore"] });
  owners.push(p);
  return p.pid;
}

/** A PID that is certainly not running: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

const events = (c: CacheEnv): ReturnType<CacheEnv["lifecycleEvents"]> => c.lifecycleEvents();

function onlyDaemon(c: CacheEnv): number {
  const pids = c.daemonPids();
  expect(pids.length).toBe(1);
  return pids[0] as number;
}

/** Polls a daemon request at a calm pace (each poll spawns a client). */
async function pollStatus(c: CacheEnv, pred: (owners: number[]) => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred(c.status().owners as number[])) return true;
    await Bun.sleep(250);
  }
  return false;
}

describe("private daemons", () => {
  test("start --owner-pid: status lists the owner; the daemon exits once the owner has exited", async () => {
    const c = new CacheEnv();
    const a = owner();
    const started = expectOk(c.zc(["start", "--owner-pid", String(a)]));
    const pid = onlyDaemon(c);
    expect(started.out).toBe(`zccache daemon 0.1.0 running (pid ${pid}), owners ${a}\n`);
    const st = c.status();
    expect(st.owners).toEqual([a]);
    expect(st.start_reason).toBe("start");
    const human = expectOk(c.zc(["status"])).out;
    expect(human).toMatch(new RegExp(`^owners\\s+${a} `, "m"));
    expect(human).toMatch(/^started\s+start /m);

    process.kill(a, "SIGKILL");
    expect(await waitUntil(() => exited(pid), EXIT_WAIT_MS)).toBe(true);
    const ev = events(c);
    expect(ev.map((e) => e.event)).toEqual(["start", "owner-exit"]);
    expect(ev[0]).toMatchObject({ event: "start", pid, version: "0.1.0", reason: "start", owners: [a] });
    expect(ev[1]).toMatchObject({ event: "owner-exit", pid, owners: [a] });
  });

  test("two owners, the second added to the running daemon: it stays until both have exited", async () => {
    const c = new CacheEnv();
    const a = owner();
    const b = owner();
    expectOk(c.zc(["start", "--owner-pid", String(a)]));
    const pid = onlyDaemon(c);
    // The same daemon takes the new owner (a, named again, is not added twice).
    const again = expectOk(c.zc(["start", `--owner-pid=${b},${a}`]));
    expect(again.out).toContain(`(pid ${pid}), owners ${a}, ${b}\n`);
    expect(c.status().owners).toEqual([a, b]);

    process.kill(a, "SIGKILL");
    // The daemon noticed a's exit and is still serving, for b.
    expect(await pollStatus(c, (o) => o.length === 1 && o[0] === b, EXIT_WAIT_MS)).toBe(true);
    expect(c.daemonPids()).toEqual([pid]);

    process.kill(b, "SIGKILL");
    expect(await waitUntil(() => exited(pid), EXIT_WAIT_MS)).toBe(true);
    const ev = events(c);
    expect(ev.map((e) => e.event), JSON.stringify(ev)).toEqual(["start", "owner-added", "owner-exit"]);
    expect(ev[1]).toMatchObject({ owners: [b] });
    expect(ev[2]).toMatchObject({ owners: [b] });
  });

  test("ZCCACHE_OWNER_PID in the env of the compile that auto-starts the daemon makes it private", async () => {
    const c = new CacheEnv();
    const a = owner();
    c.write("a.c", "int f(int x) { return x + 41; }\n");
    expectOk(compileIn(c, "a.c", { ZCCACHE_OWNER_PID: String(a) }));
    const pid = onlyDaemon(c);
    const st = c.status();
    expect(st.owners).toEqual([a]);
    expect(st.start_reason).toBe("auto");
    expect(st.misses).toBe(1);

    process.kill(a, "SIGKILL");
    expect(await waitUntil(() => exited(pid), EXIT_WAIT_MS)).toBe(true);
    expect(events(c).map((e) => [e.event, e.reason ?? null])).toEqual([
      ["start", "auto"],
      ["owner-exit", null],
    ]);
  });

  test("a bad owner PID is one line and a non-zero exit, and starts nothing", async () => {
    const c = new CacheEnv();
    const gone = await deadPid();
    const cases: { args: string[]; env?: Record<string, string>; says: string; code: number }[] = [
      { args: ["--owner-pid", "abc"], says: "invalid owner PID 'abc'", code: 2 },
      { args: ["--owner-pid", `${process.pid},-3`], says: "invalid owner PID '-3'", code: 2 },
      { args: ["--owner-pid"], says: "--owner-pid needs a PID", code: 2 },
      { args: ["--owner-pid", String(gone)], says: `owner PID ${gone} is not a running process`, code: 1 },
      { args: [], env: { ZCCACHE_OWNER_PID: "12x" }, says: "invalid owner PID '12x'", code: 2 },
      { args: [], env: { ZCCACHE_OWNER_PID: String(gone) }, says: `owner PID ${gone} is not a running process`, code: 1 },
    ];
    for (const k of cases) {
      const r = c.zc(["start", ...k.args], { env: k.env });
      expect({ args: k.args, code: r.code, lines: r.err.split("\n").length - 1 }).toEqual({ args: k.args, code: k.code, lines: 1 });
      expect(r.err).toBe(`zccache: start: ${k.says}${k.says.includes("PID '") ? " (expected a process ID, or a comma list of them)" : ""}\n`);
      expect(r.out).toBe("");
    }
    expect(c.daemonPids()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, "logs", "lifecycle.jsonl"))).toBe(false);
  });

  test("a compile with a bad ZCCACHE_OWNER_PID says so in one line and compiles without the cache", async () => {
    const c = new CacheEnv();
    const gone = await deadPid();
    c.write("o.c", "int owned(void) { return 11; }\n");
    for (const [value, says] of [
      ["12x", "invalid owner PID '12x' (expected a process ID, or a comma list of them)"],
      [String(gone), `owner PID ${gone} is not a running process`],
    ] as const) {
      fs.rmSync(path.join(c.work, "o.o"), { force: true });
      const r = compileIn(c, "o.c", { ZCCACHE_OWNER_PID: value });
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: `zccache: ZCCACHE_OWNER_PID: ${says}; compiling without the cache\n` });
      expect(c.read("o.o").equals(bareObject(c.work, "o.c"))).toBe(true);
    }
    expect(c.daemonPids()).toEqual([]);
  });
});

describe("lifecycle log", () => {
  test("start and stop; a kill -9 is recovered from; start reasons in status", async () => {
    const c = new CacheEnv();
    expectOk(c.zc(["start"]));
    const first = onlyDaemon(c);
    expectOk(c.zc(["stop"]));
    expect(events(c).map((e) => e.event)).toEqual(["start", "stop"]);
    expect(events(c)[1]).toMatchObject({ event: "stop", pid: first, by: "request" });

    // Auto-started by a compile, then killed without a chance to clean up.
    c.write("k.c", "int k(void) { return 7; }\n");
    expectOk(compileIn(c, "k.c"));
    const killed = onlyDaemon(c);
    expect(c.status().start_reason).toBe("auto");
    process.kill(killed, "SIGKILL");
    // Every thread gone, so its listener is closed: see daemon-lifecycle's kill -9 test.
    expect(await waitUntil(() => exitedAllThreads(killed), EXIT_WAIT_MS)).toBe(true);

    expectOk(c.zc(["start"]));
    const next = onlyDaemon(c);
    const ev = events(c);
    expect(ev.map((e) => e.event)).toEqual(["start", "stop", "start", "crash-recovered", "start"]);
    expect(ev[2]).toMatchObject({ pid: killed, reason: "auto" });
    expect(ev[3]).toMatchObject({ pid: next, previous_pid: killed, stale_socket: true });
    expect(ev[4]).toMatchObject({ pid: next, reason: "start", owners: [] });
    expect(c.status().start_reason).toBe("start");
    expect(expectOk(c.zc(["status"])).out).toMatch(/^started\s+start \(zccache start\)$/m);
    expectOk(c.zc(["stop"]));
    // A clean stop leaves nothing to recover from.
    expectOk(c.zc(["start"]));
    expectOk(c.zc(["stop"]));
    expect(events(c).map((e) => e.event).slice(5)).toEqual(["stop", "start", "stop"]);
  });

  test("idle exit and a hand-over to a newer client are recorded", async () => {
    const c = new CacheEnv();
    expectOk(c.zc(["start"], { env: { ZCCACHE_TEST_DAEMON_VERSION: "0.0.1" } }));
    const old = onlyDaemon(c);
    const handedOver = expectOk(c.zc(["status", "--json"], { env: { ZCCACHE_IDLE_TIMEOUT_SECS: "1" } }));
    expect(await waitUntil(() => exited(old), EXIT_WAIT_MS)).toBe(true);
    // From the answer, not from /proc: with a 1 s idle time it may be gone already.
    const fresh = (JSON.parse(handedOver.out) as { pid: number }).pid;
    expect(fresh).not.toBe(old);
    expect(await waitUntil(() => exited(fresh), EXIT_WAIT_MS)).toBe(true);
    const ev = events(c);
    expect(ev.map((e) => e.event)).toEqual(["start", "version-replace", "start", "idle-exit"]);
    expect(ev[1]).toMatchObject({ pid: old, version: "0.0.1", newer_client: "0.1.0" });
    expect(ev[2]).toMatchObject({ pid: fresh, version: "0.1.0", reason: "auto" });
    expect(ev[3]).toMatchObject({ pid: fresh, idle_secs: 1 });
  });
});
