// Isolation between users: a second user (created here when we run as root) cannot connect
// to our daemon's socket, gets a daemon of its own when it compiles, cannot use or damage
// our cache root, and even with our socket's permissions opened up the daemon refuses a
// client of another uid (SPEC §4.8: "the daemon refuses connections from another uid").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, copyInstallation, daemonPidsFor, run, type RunResult, tempDir } from "../helpers.ts";
import { killQuietly, uidOf, waitUntil } from "./lib.ts";

const IS_ROOT = (process.getuid?.() ?? 1) === 0;
const USER = `zcrel${process.pid % 100000}`;
const RUNUSER = Bun.which("runuser") ?? "/usr/sbin/runuser";

// A runtime dir of our own: a test below opens one up to others, which would send every
// other compile on this machine to the fallback dir while it lasts.
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
h.writeUInt32LE(0x4643435a, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(0, 6); h.writeUInt32LE(body.length, 8);
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
  copyInstallation(shared);
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

// SPEC §6.9: the runtime dir is judged with lstat and never repaired. A name in a sticky,
// world-writable dir (what /tmp is) can be planted by anyone; following it, chmod-ing what
// it points at or clearing "foreign" entries there would let another user damage our files.
describe("runtime dir planted or loosened", () => {
  interface Tree {
    readonly entries: string[];
  }
  /** Every path under `dir` with its type, owner and mode: what must not change. */
  function treeOf(dir: string): Tree {
    const entries: string[] = [];
    const walk = (p: string, rel: string): void => {
      const st = fs.lstatSync(p);
      entries.push(`${rel} ${st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "f"} ${st.uid} ${(st.mode & 0o7777).toString(8)} ${st.size}`);
      if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`);
    };
    walk(dir, ".");
    return { entries };
  }

  /** A stand-in for /tmp: sticky and writable by everyone. */
  function stickyDir(): string {
    const d = tempDir("zc-iso-sticky-");
    fs.chmodSync(d, 0o1777);
    return d;
  }

  function compileThrough(mine: CacheEnv, name: string): void {
    mine.write(`${name}.c`, `int ${name}(int x) { return x * 3 + 2; }\n`);
    const r = mine.zc(["gcc", "-O1", "-c", `${name}.c`, "-o", `${name}.o`]);
    expect(r.code).toBe(0);
    const ref = tempDir("zc-iso-ref-");
    fs.copyFileSync(path.join(mine.work, `${name}.c`), path.join(ref, `${name}.c`));
    expect(bare(["gcc", "-O1", "-c", `${name}.c`, "-o", `${name}.o`], ref).code).toBe(0);
    expect(mine.read(`${name}.o`).equals(fs.readFileSync(path.join(ref, `${name}.o`)))).toBe(true);
  }

  for (const target of ["a directory full of our files", "a directory of that user's own"] as const) {
    test(`a symlink planted by another user at our runtime dir, pointing at ${target}, is never followed`, () => {
      if (!created) {
        expect(IS_ROOT).toBe(false);
        return;
      }
      const sticky = stickyDir();
      let pointee: string;
      if (target === "a directory full of our files") {
        // Open to others, with an entry of the other user's in it: the old client chmod-ed
        // such a dir to 0700 and deleted whatever it did not own.
        pointee = tempDir("zc-iso-victim-");
        fs.chmodSync(pointee, 0o775);
        fs.writeFileSync(path.join(pointee, "precious.txt"), "ours\n", { mode: 0o644 });
        fs.mkdirSync(path.join(pointee, "sub"), { mode: 0o755 });
        fs.writeFileSync(path.join(pointee, "sub", "deep.txt"), "ours too\n");
        fs.writeFileSync(path.join(pointee, "shared.txt"), "theirs\n");
        fs.chownSync(path.join(pointee, "shared.txt"), userUid, userUid);
      } else {
        pointee = path.join(userHome, `own-${Date.now()}`);
        expect(asUser(["mkdir", "-m", "755", pointee]).code).toBe(0);
        expect(asUser(["sh", "-c", `echo mine > ${pointee}/note.txt`]).code).toBe(0);
        fs.chmodSync(userHome, 0o755);
      }
      const planted = path.join(sticky, "zccache-rt");
      expect(asUser(["ln", "-s", pointee, planted]).code).toBe(0);
      const before = treeOf(pointee);

      const mine = new CacheEnv({ ZCCACHE_RUNTIME_DIR: planted, XDG_RUNTIME_DIR: undefined });
      ours.push(mine);
      compileThrough(mine, "planted");
      expect(treeOf(pointee)).toEqual(before);
      const st = mine.status();
      // Cached after all, through the private fallback under the cache root.
      expect(st.misses).toBe(1);
      expect(st.runtime_dir).toBe(path.join(mine.root, "run"));
      expect(fs.lstatSync(st.runtime_dir).mode & 0o777).toBe(0o700);
      expect(mine.zc(["stop"]).code).toBe(0);

      expect(treeOf(pointee)).toEqual(before);
      expect(fs.lstatSync(planted).isSymbolicLink()).toBe(true);
      expect(fs.lstatSync(planted).uid).toBe(userUid);
      if (target === "a directory of that user's own") fs.chmodSync(userHome, 0o700);
    });
  }

  test("with every candidate refused the compile runs uncached, leaves them as they are, and is counted", () => {
    const rt = path.join(tempDir("zc-iso-none-"), "rt");
    fs.mkdirSync(rt);
    fs.chmodSync(rt, 0o770);
    const mine = new CacheEnv({ ZCCACHE_RUNTIME_DIR: rt, XDG_RUNTIME_DIR: undefined });
    ours.push(mine);
    const fallback = path.join(mine.root, "run");
    fs.mkdirSync(fallback, { recursive: true });
    fs.chmodSync(fallback, 0o750);
    const rtBefore = treeOf(rt);
    const before = [rtBefore, treeOf(fallback)];
    compileThrough(mine, "refused");
    compileThrough(mine, "refused");
    expect(mine.daemonPids()).toEqual([]);
    expect([treeOf(rt), treeOf(fallback)]).toEqual(before);
    expect(fs.readFileSync(path.join(mine.root, "client-fallbacks"), "utf8")).toContain("runtime-dir-refused");
    // Once the fallback is private (we made it, so we may fix it), a daemon starts there and
    // the refused compiles show up in its counters.
    fs.chmodSync(fallback, 0o700);
    compileThrough(mine, "refused");
    const st = mine.status();
    expect(st.runtime_dir).toBe(fallback);
    expect(st.reasons["runtime-dir-refused"]).toBe(2);
    expect(treeOf(rt)).toEqual(rtBefore);
  });

  for (const xdg of ["no XDG_RUNTIME_DIR", "a private XDG_RUNTIME_DIR"] as const) {
    test(`a runtime dir of ours open to the group is refused, not chmod-ed (daemon and client; ${xdg})`, () => {
      const rt = path.join(tempDir("zc-iso-loose-"), "rt");
      fs.mkdirSync(rt);
      fs.chmodSync(rt, 0o770);
      fs.writeFileSync(path.join(rt, "left-here"), "x");
      const before = treeOf(rt);
      let xdgDir: string | undefined;
      if (xdg === "a private XDG_RUNTIME_DIR") {
        xdgDir = tempDir("zc-iso-xdg-");
        fs.chmodSync(xdgDir, 0o700);
      }
      const mine = new CacheEnv({ ZCCACHE_RUNTIME_DIR: rt, XDG_RUNTIME_DIR: xdgDir });
      ours.push(mine);
      // The daemon first (started on its own), then a client.
      expect(mine.zc(["start"]).code).toBe(0);
      const fallback = xdgDir === undefined ? path.join(mine.root, "run") : path.join(xdgDir, "zccache");
      expect(mine.status().runtime_dir).toBe(fallback);
      expect(treeOf(rt)).toEqual(before);
      compileThrough(mine, "loose");
      compileThrough(mine, "loose");
      const st = mine.status();
      expect([st.misses, st.hits]).toEqual([1, 1]);
      expect(st.runtime_dir).toBe(fallback);
      expect(mine.daemonPids().length).toBe(1);
      expect(treeOf(rt)).toEqual(before);
    });
  }
});
