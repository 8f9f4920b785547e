// Daemon lifecycle end to end: detached spawn, start/status/stop, single-flight cold start
// under a 32-client race, idle shutdown, version hand-over, and recovery from a kill -9.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, daemonPidsFor, exited, exitedAllThreads, isAlive, type Status } from "../helpers.ts";
import { bareObject, compileIn, expectOk, waitUntil } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

const SOURCE = (n: number): string => `int value_${n}(int x) { return x * ${n + 3} + ${n}; }\n`;

const OLD = { ZCCACHE_TEST_DAEMON_VERSION: "0.0.1" };
const OLD_PROTOCOL = { ZCCACHE_TEST_PROTOCOL_VERSION: "1" };

/** `status --json` as a client with these overrides (a plain status would be a newer client). */
function statusAs(c: CacheEnv, env: Record<string, string>): Status {
  const r = expectOk(c.zc(["status", "--json"], { env }));
  return JSON.parse(r.out) as Status;
}

/** Starts a daemon with `env`'s overrides; returns its pid. */
function startOld(c: CacheEnv, env: Record<string, string>): number {
  expectOk(c.zc(["start"], { env }));
  const pids = c.daemonPids();
  expect(pids.length).toBe(1);
  return pids[0] as number;
}

/** Session id (field 6 of /proc/<pid>/stat); a detached daemon leads its own session. */
function sessionOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[3]);
}

describe("daemon lifecycle", () => {
  test("first compile spawns one detached daemon that outlives the client", () => {
    const c = new CacheEnv();
    expect(c.daemonPids()).toEqual([]);
    c.write("a.c", SOURCE(1));
    expectOk(compileIn(c, "a.c"));
    expect(c.read("a.o").equals(bareObject(c.work, "a.c"))).toBe(true);

    const pids = c.daemonPids();
    expect(pids.length).toBe(1);
    const pid = pids[0] as number;
    // The client has exited (spawnSync returned); the daemon is still alive and in its own session.
    expect(isAlive(pid)).toBe(true);
    expect(sessionOf(pid)).toBe(pid);

    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.cache_dir).toBe(c.root);
    expect(st.misses).toBe(1);
    // The lock next to the socket holds the daemon's PID.
    const lockPath = st.socket.replace(/\.sock$/, ".lock");
    expect(path.dirname(st.socket)).toBe(st.runtime_dir);
    expect(fs.readFileSync(lockPath, "utf8").trim()).toBe(String(pid));

    // A second compile is served by the same daemon, as a hit.
    expectOk(compileIn(c, "a.c"));
    expect(c.daemonPids()).toEqual([pid]);
    expect(c.status().hits).toBe(1);
  });

  test("start, status and stop", () => {
    const c = new CacheEnv();
    const started = c.zc(["start"]);
    expectOk(started);
    const pids = c.daemonPids();
    expect(pids.length).toBe(1);
    const pid = pids[0] as number;
    expect(started.out).toContain(`pid ${pid}`);

    // start again is idempotent: same daemon.
    expectOk(c.zc(["start"]));
    expect(c.daemonPids()).toEqual([pid]);

    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.version).toBe("0.1.0");
    expect(st.store).toBe("ok");
    expect(fs.existsSync(st.socket)).toBe(true);

    const human = c.zc(["status"]);
    expectOk(human);
    expect(human.out).toContain(`pid ${pid}`);

    const stopped = c.zc(["stop"]);
    expectOk(stopped);
    expect(stopped.out).toBe(`zccache daemon stopped (pid ${pid})\n`);
    expect(c.daemonPids()).toEqual([]);
    // Gone, or a zombie nobody has reaped yet (a detached daemon's parent is whoever adopts it).
    expect(exited(pid)).toBe(true);
    expect(fs.existsSync(st.socket)).toBe(false);

    // stop with nothing running still succeeds, and starts nothing.
    expectOk(c.zc(["stop"]));
    expect(c.daemonPids()).toEqual([]);
  });

  test("32 clients racing on a cold start share exactly one daemon", async () => {
    const c = new CacheEnv();
    const N = 32;
    for (let i = 0; i < N; i++) c.write(`r${i}.c`, SOURCE(i));
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => c.zcAsync(["gcc", "-c", `r${i}.c`, "-o", `r${i}.o`])),
    );
    for (const r of results) expectOk(r);

    // Daemons that lost the start race leave once they see the winner answering.
    await waitUntil(() => c.daemonPids().length <= 1, 15_000);
    const pids = c.daemonPids();
    expect(pids.length).toBe(1);

    for (let i = 0; i < N; i++) {
      expect(c.read(`r${i}.o`).equals(bareObject(c.work, `r${i}.c`))).toBe(true);
    }
    const st = c.status();
    expect(st.pid).toBe(pids[0] as number);
    // Every one of the 32 compiles went through that daemon (none fell back to a local run).
    expect(st.misses).toBe(N);
    expect(st.hits).toBe(0);
    expect(st.errors).toBe(0);
    expect(st.entries).toBe(N);
    expect(fs.readFileSync(st.socket.replace(/\.sock$/, ".lock"), "utf8").trim()).toBe(String(pids[0]));
  });

  test("idle daemon shuts itself down", async () => {
    const c = new CacheEnv({ ZCCACHE_IDLE_TIMEOUT_SECS: "1" });
    c.write("i.c", SOURCE(7));
    expectOk(compileIn(c, "i.c"));
    // Learnt from its own records, not by asking it: on a loaded machine the daemon may
    // already have gone idle (and a status request would start another).
    const started = c.lifecycleEvents().filter((e) => e.event === "start");
    expect(started.length).toBe(1);
    const pid = started[0]?.pid as number;
    const gone = await waitUntil(() => c.daemonPids().length === 0, 15_000);
    expect(gone).toBe(true);
    expect(isAlive(pid) && daemonPidsFor(c.root).includes(pid)).toBe(false);
    expect(c.lifecycleEvents().find((e) => e.event === "idle-exit")).toMatchObject({ pid, idle_secs: 1 });
    expect(fs.existsSync(c.socketPath())).toBe(false);
    // And the next compile brings a new one up (one that stays, so it can be looked at).
    expectOk(compileIn(c, "i.c", { ZCCACHE_IDLE_TIMEOUT_SECS: "600" }));
    expect(c.read("i.o").equals(bareObject(c.work, "i.c"))).toBe(true);
    const again = c.daemonPids();
    expect(again.length).toBe(1);
    expect(again[0]).not.toBe(pid);
    expect(c.status().socket).toBe(c.socketPath());
  });

  test("an older daemon is replaced by the first compile of a newer client", async () => {
    const c = new CacheEnv();
    expectOk(c.zc(["start"], { env: { ZCCACHE_TEST_DAEMON_VERSION: "0.0.1" } }));
    const old = c.daemonPids();
    expect(old.length).toBe(1);
    const oldPid = old[0] as number;
    expect(statusAs(c, OLD).version).toBe("0.0.1");

    c.write("o.c", SOURCE(11));
    const r = compileIn(c, "o.c", { ZCCACHE_TEST_DAEMON_VERSION: undefined });
    expectOk(r);
    expect(c.read("o.o").equals(bareObject(c.work, "o.c"))).toBe(true);

    expect(await waitUntil(() => !c.daemonPids().includes(oldPid), 10_000)).toBe(true);
    const now = c.daemonPids();
    expect(now.length).toBe(1);
    const newPid = now[0] as number;
    expect(newPid).not.toBe(oldPid);
    const st = c.status();
    expect(st.pid).toBe(newPid);
    expect(st.version).toBe("0.1.0");
    // The compile itself was served by the new daemon.
    expect(st.misses).toBe(1);
  });

  test("a newer daemon is used as it is", () => {
    const c = new CacheEnv();
    expectOk(c.zc(["start"], { env: { ZCCACHE_TEST_DAEMON_VERSION: "99.0.0" } }));
    const pids = c.daemonPids();
    expect(pids.length).toBe(1);
    const pid = pids[0] as number;

    c.write("n.c", SOURCE(13));
    expectOk(compileIn(c, "n.c", { ZCCACHE_TEST_DAEMON_VERSION: undefined }));
    expect(c.read("n.o").equals(bareObject(c.work, "n.c"))).toBe(true);
    expect(c.daemonPids()).toEqual([pid]);
    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.version).toBe("99.0.0");
    expect(st.misses).toBe(1);
  });

  for (const cmd of ["status", "start"] as const) {
    test(`an older daemon is replaced by '${cmd}' from a newer client`, async () => {
      const c = new CacheEnv();
      const oldPid = startOld(c, OLD);
      expect(statusAs(c, OLD).version).toBe("0.0.1");
      const r = expectOk(c.zc(cmd === "status" ? ["status", "--json"] : ["start"]));
      expect(await waitUntil(() => exited(oldPid), 10_000)).toBe(true);
      const now = c.daemonPids();
      expect(now.length).toBe(1);
      expect(now[0]).not.toBe(oldPid);
      if (cmd === "status") expect((JSON.parse(r.out) as Status).pid).toBe(now[0] as number);
      else expect(r.out).toContain(`pid ${now[0]}`);
      expect(c.status().version).toBe("0.1.0");
    });
  }

  test("stop from a newer client stops an older daemon", () => {
    const c = new CacheEnv();
    const oldPid = startOld(c, OLD);
    const r = expectOk(c.zc(["stop"]));
    expect(r.out).toBe(`zccache daemon stopped (pid ${oldPid})\n`);
    expect(c.daemonPids()).toEqual([]);
  });

  test("a daemon speaking an older protocol is replaced by a compile", async () => {
    const c = new CacheEnv();
    const oldPid = startOld(c, OLD_PROTOCOL);
    // The old daemon serves clients of its own protocol.
    expect(statusAs(c, OLD_PROTOCOL).pid).toBe(oldPid);
    c.write("p.c", SOURCE(19));
    expectOk(compileIn(c, "p.c"));
    expect(c.read("p.o").equals(bareObject(c.work, "p.c"))).toBe(true);
    expect(await waitUntil(() => exited(oldPid), 10_000)).toBe(true);
    const now = c.daemonPids();
    expect(now.length).toBe(1);
    expect(now[0]).not.toBe(oldPid);
    const st = c.status();
    expect(st.pid).toBe(now[0] as number);
    // The retried compile was served by the new daemon.
    expect(st.misses).toBe(1);
  });

  test("a daemon speaking an older protocol is replaced by status", async () => {
    const c = new CacheEnv();
    const oldPid = startOld(c, OLD_PROTOCOL);
    const r = expectOk(c.zc(["status", "--json"]));
    const st = JSON.parse(r.out) as Status;
    expect(st.pid).not.toBe(oldPid);
    expect(await waitUntil(() => exited(oldPid), 10_000)).toBe(true);
    expect(c.daemonPids()).toEqual([st.pid]);
  });

  test("a client speaking an older protocol compiles by itself; the newer daemon keeps running", () => {
    const c = new CacheEnv();
    expectOk(c.zc(["start"]));
    const pid = c.daemonPids()[0] as number;
    c.write("q.c", SOURCE(23));
    const r = expectOk(compileIn(c, "q.c", OLD_PROTOCOL));
    expect(r.err).toBe("");
    expect(c.read("q.o").equals(bareObject(c.work, "q.c"))).toBe(true);
    expect(c.daemonPids()).toEqual([pid]);
    const st = c.status();
    expect(st.pid).toBe(pid);
    // Compiled locally: the daemon neither missed nor stored anything.
    expect(st.misses + st.hits).toBe(0);
    expect(st.entries).toBe(0);
  });

  test("a spawned daemon keeps the memory it freed unless the environment says otherwise; its compilers never see that", () => {
    const environOf = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const c = new CacheEnv();
    // A gcc (by name, so the daemon takes it as one) that notes what it was given of the setting.
    const seenFile = path.join(c.work, "seen.txt");
    const wrapper = c.write("bin/gcc", `#!/bin/sh\necho "\${MIMALLOC_PURGE_DELAY-unset}" >> '${seenFile}'\nexec gcc "$@"\n`);
    fs.chmodSync(wrapper, 0o755);
    const seen = (): Set<string> => new Set(fs.readFileSync(seenFile, "utf8").trim().split("\n"));

    c.write("m.c", SOURCE(31));
    expectOk(c.zc([wrapper, "-c", "m.c", "-o", "m.o"], { env: { MIMALLOC_PURGE_DELAY: undefined } }));
    expect(c.read("m.o").equals(bareObject(c.work, "m.c"))).toBe(true);
    const st = c.status();
    // The daemon ran the compile (it missed), so the notes are of the daemon's runs.
    expect(st.misses).toBe(1);
    expect(environOf(st.pid)).toContain("MIMALLOC_PURGE_DELAY=-1");
    expect(seen()).toEqual(new Set(["unset"]));

    // A value of the user's own is kept, for the daemon and for the compilers (the request's environment).
    expectOk(c.zc(["stop"]));
    fs.rmSync(seenFile);
    c.write("m2.c", SOURCE(32));
    expectOk(c.zc([wrapper, "-c", "m2.c", "-o", "m2.o"], { env: { MIMALLOC_PURGE_DELAY: "25" } }));
    const st2 = c.status();
    expect(st2.pid).not.toBe(st.pid);
    expect(st2.misses - st.misses).toBe(1);
    expect(environOf(st2.pid)).toContain("MIMALLOC_PURGE_DELAY=25");
    expect(environOf(st2.pid)).not.toContain("MIMALLOC_PURGE_DELAY=-1");
    expect(seen()).toEqual(new Set(["25"]));
  });

  test("a kill -9'd daemon leaves a stale socket; the next compile starts a fresh one", async () => {
    const c = new CacheEnv();
    c.write("k.c", SOURCE(17));
    expectOk(compileIn(c, "k.c"));
    const st = c.status();
    const pid = st.pid;
    expect(c.daemonPids()).toEqual([pid]);
    process.kill(pid, "SIGKILL");
    // Wait until every thread has exited, not for the command line to vanish or the leader to
    // turn zombie: a dying process loses its command line before its descriptors are closed,
    // and its other threads keep the shared descriptor table (the listener) open after the
    // leader is a zombie. A compile in that window connects to the old listener and is
    // dropped (it then compiles locally, as it should, and starts no daemon).
    expect(await waitUntil(() => exitedAllThreads(pid), 10_000)).toBe(true);
    expect(c.daemonPids()).toEqual([]);
    // Nobody cleaned up after it.
    expect(fs.existsSync(st.socket)).toBe(true);

    fs.rmSync(path.join(c.work, "k.o"));
    expectOk(compileIn(c, "k.c"));
    expect(c.read("k.o").equals(bareObject(c.work, "k.c"))).toBe(true);
    const fresh = c.daemonPids();
    expect(fresh.length).toBe(1);
    const freshPid = fresh[0] as number;
    expect(freshPid).not.toBe(pid);
    const st2 = c.status();
    expect(st2.pid).toBe(freshPid);
    expect(st2.socket).toBe(st.socket);
    expect(fs.existsSync(st2.socket)).toBe(true);
    expect(fs.readFileSync(st2.socket.replace(/\.sock$/, ".lock"), "utf8").trim()).toBe(String(freshPid));
    // The store survived the crash: the recompile was a hit.
    expect(st2.hits).toBe(1);
  });
});
