// Isolation between users: a second user (created here when we run as root) cannot connect
// to our daemon's socket, gets a daemon of its own when it compiles, cannot use or damage
// our cache root, and even with our socket's permissions opened up the daemon refuses a
// client of another uid (SPEC §4.8: "the daemon refuses connections from another uid").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, daemonPidsFor, run, type RunResult, tempDir, ZCCACHE } from "../helpers.ts";
import { killQuietly, uidOf, waitUntil } from "./lib.ts";

const IS_ROOT = (process.getuid?.() ?? 1) === 0;
const USER = `zcrel${process.pid % 100000}`;
const RUNUSER = Bun.which("runuser") ?? "/usr/sbin/runuser";

// A runtime dir of our own: every zccache client re-closes a runtime dir it finds open to
// others, so a shared /tmp/zccache-0 would be tightened again under the last test's feet
// by any other compile on this machine.
const ours: CacheEnv[] = [];
/** Our side of each test: its own cache root, daemon and runtime dir. */
function newMine(): CacheEnv {
  const runtimeBase = tempDir("zc-iso-rt-");
  fs.chmodSync(runtimeBase, 0o755);
  const c = new CacheEnv({ ZCCACHE_RUNTIME_DIR: path.join(runtimeBase, "rt") });
  ours.push(c);
  return c;
}
let userUid = -1;
let userHome = "";
let userWork = "";
let shared = "";
let created = false;

function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  // Only what a login would give; nothing of ours (no ZCCACHE_* from the test process).
  return { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C", BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", ...extra };
}

function asUser(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  return run([RUNUSER, "-u", USER, "--", ...argv], { cwd: opts.cwd ?? userWork, env: opts.env ?? userEnv() });
}

/** Connects to `socket` as the other user and sends a ping; what happened, as JSON. */
function probeAs(socket: string): { connected: boolean; error: string | null; reply: Record<string, unknown> | null } {
  const r = asUser([path.join(shared, "bun"), path.join(shared, "probe.js"), socket], { cwd: shared });
  if (r.code !== 0) throw new Error(`probe failed to run: ${r.err}`);
  return JSON.parse(r.out.trim().split("\n").pop() as string);
}

const PROBE = `
const net = require("node:net");
const sock = process.argv[2];
const body = Buffer.from(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }));
const h = Buffer.alloc(12);
h.writeUInt32LE(0x4643435a, 0); h.writeUInt16LE(1, 4); h.writeUInt16LE(0, 6); h.writeUInt32LE(body.length, 8);
const out = { connected: false, error: null, reply: null };
const parts = [];
let done = false;
const finish = () => {
  if (done) return; done = true;
  const d = Buffer.concat(parts);
  if (d.length >= 12) { try { out.reply = JSON.parse(d.subarray(12, 12 + d.readUInt32LE(8)).toString()); } catch {} }
  console.log(JSON.stringify(out));
  process.exit(0);
};
const s = net.createConnection({ path: sock });
s.on("connect", () => { out.connected = true; s.write(Buffer.concat([h, body])); });
s.on("data", (d) => parts.push(d));
s.on("error", (e) => { out.error = e.code || String(e); finish(); });
s.on("close", finish);
setTimeout(finish, 5000);
`;

function userDaemons(root: string): number[] {
  return daemonPidsFor(root).filter((pid) => uidOf(pid) === userUid);
}

beforeAll(() => {
  if (!IS_ROOT) return;
  userHome = tempDir("zc-iso-home-");
  const r = run(["useradd", "-M", "-d", userHome, "-s", "/bin/sh", USER]);
  if (r.code !== 0) return;
  created = true;
  userUid = Number(run(["id", "-u", USER]).out.trim());
  fs.chmodSync(userHome, 0o700);
  fs.chownSync(userHome, userUid, userUid);
  userWork = path.join(userHome, "work");
  fs.mkdirSync(userWork);
  fs.chownSync(userWork, userUid, userUid);
  // The binary, a bun to run the probe with, and the probe, where the other user can reach them.
  shared = tempDir("zc-iso-shared-");
  fs.chmodSync(shared, 0o755);
  fs.copyFileSync(ZCCACHE, path.join(shared, "zccache"));
  fs.chmodSync(path.join(shared, "zccache"), 0o755);
  fs.copyFileSync(process.execPath, path.join(shared, "bun"));
  fs.chmodSync(path.join(shared, "bun"), 0o755);
  fs.writeFileSync(path.join(shared, "probe.js"), PROBE, { mode: 0o644 });
});

afterAll(async () => {
  CacheEnv.stopAll();
  if (!created) return;
  // The other user's daemons, found by their cache roots, then the user.
  const roots = [path.join(userHome, ".cache", "zccache"), ...ours.map((c) => c.root)];
  for (const root of roots) for (const pid of userDaemons(root)) killQuietly(pid);
  await waitUntil(() => roots.every((root) => userDaemons(root).length === 0), 10_000);
  run(["userdel", USER]);
  fs.rmSync(userHome, { recursive: true, force: true });
  fs.rmSync(`/tmp/zccache-${userUid}`, { recursive: true, force: true });
  if (shared !== "") fs.rmSync(shared, { recursive: true, force: true });
});

describe("another user", () => {
  test("the runtime dir and socket are ours alone; another user cannot connect", () => {
    const mine = newMine();
    expect(mine.zc(["start"]).code).toBe(0);
    const st = mine.status();
    const dir = fs.statSync(st.runtime_dir);
    expect(dir.uid).toBe(process.getuid?.() ?? -1);
    expect(dir.mode & 0o777).toBe(0o700);
    expect(fs.statSync(st.socket).mode & 0o077).toBe(0);
    if (!created) {
      console.log(`isolation: not root or useradd unavailable; checked permissions only`);
      return;
    }
    const p = probeAs(st.socket);
    expect(p.reply).toBeNull();
    expect(p.connected).toBe(false);
    expect(p.error).toBe("EACCES");
    // The daemon served nobody: counters unchanged, same daemon.
    const after = mine.status();
    expect(after.pid).toBe(st.pid);
  });

  test("a compile as that user gets its own daemon, running as that user", () => {
    if (!created) {
      expect(IS_ROOT).toBe(false);
      return;
    }
    const mine = newMine();
    expect(mine.zc(["start"]).code).toBe(0);
    const ours = mine.status();
    fs.writeFileSync(path.join(userWork, "u.c"), "int other_user(int x) { return x * 41; }\n");
    fs.chownSync(path.join(userWork, "u.c"), userUid, userUid);
    const zc = path.join(shared, "zccache");
    const r1 = asUser([zc, "gcc", "-O1", "-c", "u.c", "-o", "u.o"]);
    expect(r1.code).toBe(0);
    expect(r1.err).toBe("");
    const r2 = asUser([zc, "gcc", "-O1", "-c", "u.c", "-o", "u.o"]);
    expect(r2.code).toBe(0);
    const ref = tempDir("zc-iso-ref-");
    fs.copyFileSync(path.join(userWork, "u.c"), path.join(ref, "u.c"));
    expect(bare(["gcc", "-O1", "-c", "u.c", "-o", "u.o"], ref).code).toBe(0);
    expect(fs.readFileSync(path.join(userWork, "u.o")).equals(fs.readFileSync(path.join(ref, "u.o")))).toBe(true);

    const userRoot = path.join(userHome, ".cache", "zccache");
    const theirs = userDaemons(userRoot);
    expect(theirs.length).toBe(1);
    expect(theirs[0]).not.toBe(ours.pid);
    const st = JSON.parse(asUser([zc, "status", "--json"]).out) as Record<string, unknown>;
    expect(st.pid).toBe(theirs[0]);
    expect(st.hits).toBe(1);
    expect(st.misses).toBe(1);
    expect(String(st.runtime_dir)).toBe(`/tmp/zccache-${userUid}`);
    expect(fs.statSync(`/tmp/zccache-${userUid}`).uid).toBe(userUid);
    // Ours saw none of it.
    const now = mine.status();
    expect(now.pid).toBe(ours.pid);
    expect([now.hits, now.misses, now.uncacheable]).toEqual([ours.hits, ours.misses, ours.uncacheable]);
  });

  test("pointed at our cache root, that user neither uses nor changes it", () => {
    if (!created) {
      expect(IS_ROOT).toBe(false);
      return;
    }
    const mine = newMine();
    mine.write("m.c", "int mine(int x) { return x + 1; }\n");
    expect(mine.zc(["gcc", "-O1", "-c", "m.c", "-o", "m.o"]).code).toBe(0);
    const ours = mine.status();
    const listing = (): string[] => run(["find", mine.root, "-printf", "%P %u %s\n"]).out.split("\n").filter((l) => !l.includes("logs/") && !l.startsWith("index.sqlite") && !l.startsWith("history.sqlite")).sort();
    const before = listing();

    const zc = path.join(shared, "zccache");
    fs.writeFileSync(path.join(userWork, "v.c"), "int theirs(int x) { return x * 43; }\n");
    fs.chownSync(path.join(userWork, "v.c"), userUid, userUid);
    const r = asUser([zc, "gcc", "-O1", "-c", "v.c", "-o", "v.o"], { env: userEnv({ ZCCACHE_CACHE_DIR: mine.root }) });
    expect(r.code).toBe(0);
    const ref = tempDir("zc-iso-ref-");
    fs.copyFileSync(path.join(userWork, "v.c"), path.join(ref, "v.c"));
    expect(bare(["gcc", "-O1", "-c", "v.c", "-o", "v.o"], ref).code).toBe(0);
    expect(fs.readFileSync(path.join(userWork, "v.o")).equals(fs.readFileSync(path.join(ref, "v.o")))).toBe(true);
    const now = mine.status();
    expect(now.pid).toBe(ours.pid);
    expect([now.hits, now.misses, now.uncacheable, now.entries]).toEqual([ours.hits, ours.misses, ours.uncacheable, ours.entries]);
    expect(listing()).toEqual(before);
    expect(run(["find", mine.root, "-user", USER]).out.trim()).toBe("");
  });

  test("even with the socket's directory and file opened up, the daemon refuses another uid", async () => {
    if (!created) {
      expect(IS_ROOT).toBe(false);
      return;
    }
    const mine = newMine();
    expect(mine.zc(["start"]).code).toBe(0);
    const st = mine.status();
    const dirMode = fs.statSync(st.runtime_dir).mode & 0o777;
    const sockMode = fs.statSync(st.socket).mode & 0o777;
    // A careless chmod (or a shared runtime dir): only the daemon's own check is left.
    fs.chmodSync(st.runtime_dir, 0o711);
    fs.chmodSync(st.socket, 0o666);
    let p: ReturnType<typeof probeAs>;
    try {
      p = probeAs(st.socket);
    } finally {
      fs.chmodSync(st.runtime_dir, dirMode);
      fs.chmodSync(st.socket, sockMode);
    }
    // No answer for a stranger: not a pong, not anything that would run a compiler for it.
    expect(p.reply?.type ?? null).not.toBe("pong");
    expect(p.reply === null || p.reply.type === "error").toBe(true);
    expect(await waitUntil(() => mine.status().pid === st.pid, 5_000)).toBe(true);
  });
});
