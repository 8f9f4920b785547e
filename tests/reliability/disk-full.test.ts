// Resource exhaustion: a cache root on a tiny filesystem that fills up (bytes, then inodes),
// and, on any machine, a tiny size budget with directories the daemon cannot write to.
// Compiles must keep succeeding exactly as bare ones do, the daemon must keep running, and
// caching must resume once there is room again.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, daemonPidsFor, run, tempDir, ZCCACHE } from "../helpers.ts";
import { diffObserved, observe, reason, removeOutputs, tryMountTmpfs, umountQuietly, waitUntil } from "./lib.ts";

const mounts: string[] = [];
/** Envs whose cache root is on one of our mounts: stopped before the unmount. */
const onMounts: CacheEnv[] = [];
afterAll(() => {
  for (const c of onMounts.splice(0)) c.stop();
  for (const m of mounts.splice(0)) umountQuietly(m);
  // Only now can the temp dirs that held the mount points be removed.
  CacheEnv.stopAll();
});

/** A source whose object is about `kb` KiB, distinct per (tag, i). */
function bigSource(tag: string, i: number, kb: number): string {
  return `unsigned char blob_${tag}_${i}[${kb * 1024}] = { ${i + 1}, 2, 3 };\nint get_${tag}_${i}(int k) { return blob_${tag}_${i}[k] + ${i}; }\n`;
}

/** zccache vs bare for one compile in the same cwd; "" when identical. */
function compareOnce(c: CacheEnv, rel: string, extra: readonly string[] = []): string {
  const out = rel.replace(/\.c$/, ".o");
  const argv = ["gcc", "-O1", ...extra, "-c", rel, "-o", out];
  removeOutputs(c.work, [out]);
  const b = observe(bare(argv, c.work, c.env), c.work, [out]);
  removeOutputs(c.work, [out]);
  const z = observe(run([ZCCACHE, ...argv], { cwd: c.work, env: c.env }), c.work, [out]);
  const d = diffObserved(b, z);
  return d === "" ? "" : `${argv.join(" ")}\n${d}`;
}

function compareMany(c: CacheEnv, rels: readonly string[], extra: readonly string[] = []): string[] {
  return rels.map((r) => compareOnce(c, r, extra)).filter((d) => d !== "");
}

/** Fills what is left of a filesystem with ballast files (bytes or inodes, whichever ends first). */
function fillUp(dir: string, chunk: number): number {
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  for (;;) {
    try {
      fs.writeFileSync(path.join(dir, `fill-${n}`), Buffer.alloc(chunk, 0x55));
      n++;
    } catch {
      return n;
    }
  }
}

describe("a cache root on a filesystem that fills up", () => {
  test("out of bytes: every compile still matches bare, the daemon survives, caching resumes after", () => {
    const base = tempDir("zc-full-");
    const mnt = path.join(base, "mnt");
    if (!tryMountTmpfs(mnt, "size=1m")) {
      // Not allowed to mount here: the budget/unwritable-dir test below covers this machine.
      console.log("disk-full: cannot mount a tmpfs here; relying on the budget test");
      expect(fs.existsSync(mnt)).toBe(true);
      return;
    }
    mounts.push(mnt);
    const root = path.join(mnt, "cache");
    const c = new CacheEnv({ ZCCACHE_CACHE_DIR: root });
    onMounts.push(c);
    // Ballast we can remove later to make room again.
    fs.writeFileSync(path.join(mnt, "ballast"), Buffer.alloc(200 * 1024, 1));
    const rels: string[] = [];
    for (let i = 0; i < 48; i++) {
      c.write(`s${i}.c`, bigSource("full", i, 16));
      rels.push(`s${i}.c`);
    }

    expect(compareMany(c, rels)).toEqual([]);
    const pid = c.status().pid;
    // Whatever is left, take it.
    fillUp(path.join(mnt, "fill"), 4096);
    expect(compareMany(c, rels)).toEqual([]);
    for (let i = 0; i < 6; i++) {
      c.write(`late${i}.c`, bigSource("late", i, 16));
      rels.push(`late${i}.c`);
    }
    expect(compareMany(c, rels.slice(-6))).toEqual([]);
    const full = c.status();
    expect(full.pid).toBe(pid);
    expect(daemonPidsFor(root)).toEqual([pid]);
    // The failures to store were noticed.
    expect(full.errors).toBeGreaterThan(0);

    // Room again: new sources are cached (a miss, then a hit), still identical to bare.
    fs.rmSync(path.join(mnt, "ballast"));
    fs.rmSync(path.join(mnt, "fill"), { recursive: true, force: true });
    const fresh = ["fresh0.c", "fresh1.c"];
    fresh.forEach((r, i) => c.write(r, bigSource("fresh", i, 4)));
    expect(compareMany(c, fresh)).toEqual([]);
    const mid = c.status();
    expect(compareMany(c, fresh)).toEqual([]);
    const after = c.status();
    expect(after.pid).toBe(pid);
    expect(after.hits - mid.hits).toBe(fresh.length);
    // A full disk is a store failure, counted as such; it must not turn the daemon's
    // answers into internal errors (each one makes the client compile all over again).
    expect(full.reasons).not.toHaveProperty("internal");
  });

  test("out of inodes: the cache cannot create a single file, compiles still match bare (also when the compiler wraps the path in its message)", () => {
    const base = tempDir("zc-inodes-");
    const mnt = path.join(base, "mnt");
    if (!tryMountTmpfs(mnt, "size=32m,nr_inodes=96")) {
      console.log("disk-full: cannot mount a tmpfs here; relying on the budget test");
      expect(fs.existsSync(mnt)).toBe(true);
      return;
    }
    mounts.push(mnt);
    // Spaces in the root: a compiler wrapping its messages (-fmessage-length) splits the
    // private depfile's path in the error it gives when it cannot create it.
    const root = path.join(mnt, "cache root with spaces");
    const c = new CacheEnv({ ZCCACHE_CACHE_DIR: root });
    onMounts.push(c);
    const first = ["i0.c", "i1.c", "i2.c"];
    first.forEach((r, i) => c.write(r, bigSource("ino", i, 2)));
    expect(compareMany(c, first)).toEqual([]);
    const pid = c.status().pid;
    // Use up every remaining inode (the files are empty: bytes are plentiful).
    fillUp(path.join(mnt, "fill"), 0);
    const more = ["j0.c", "j1.c", "j2.c", "j3.c"];
    more.forEach((r, i) => c.write(r, bigSource("more", i, 2)));
    expect(compareMany(c, [...first, ...more])).toEqual([]);
    const wrapped = ["w0.c", "w1.c"];
    wrapped.forEach((r, i) => c.write(r, bigSource("wrapped", i, 2)));
    expect(compareMany(c, wrapped, ["-fmessage-length=30"])).toEqual([]);
    expect(c.status().pid).toBe(pid);
    expect(daemonPidsFor(root)).toEqual([pid]);
  });
});

describe("a tiny budget and directories the daemon cannot write to", () => {
  test("a 4K budget, then unwritable blob shards and scratch dir: compiles match bare, failures counted", async () => {
    const c = new CacheEnv({ ZCCACHE_CACHE_SIZE: "4K" });
    const rels: string[] = [];
    for (let i = 0; i < 10; i++) {
      c.write(`b${i}.c`, bigSource("budget", i, 1));
      rels.push(`b${i}.c`);
    }
    // Each object is bigger than a quarter of the budget: eviction runs all the time.
    expect(compareMany(c, rels)).toEqual([]);
    expect(compareMany(c, rels)).toEqual([]);
    // Eviction runs in the background: within a few persist ticks the store is under budget.
    expect(await waitUntil(() => c.status().bytes <= 4096, 15_000, 200)).toBe(true);
    const st = c.status();
    const pid = st.pid;

    // Blob shard directories replaced by regular files: no blob can be written (root
    // ignores permission bits, so this is how we make a directory unwritable for it).
    const blobs = path.join(c.root, "blobs");
    fs.rmSync(blobs, { recursive: true, force: true });
    fs.mkdirSync(blobs);
    for (let s = 0; s < 256; s++) fs.writeFileSync(path.join(blobs, s.toString(16).padStart(2, "0")), "not a directory\n");
    const news: string[] = [];
    for (let i = 0; i < 6; i++) {
      c.write(`n${i}.c`, bigSource("unwritable", i, 1));
      news.push(`n${i}.c`);
    }
    expect(compareMany(c, news)).toEqual([]);
    const mid = c.status();
    expect(mid.pid).toBe(pid);
    expect(reason(mid, "store-write-failed") - reason(st, "store-write-failed")).toBe(news.length);

    // The daemon's scratch directory (private depfiles) unusable too.
    const scratch = path.join(c.root, "tmp");
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.writeFileSync(scratch, "not a directory\n");
    const last: string[] = [];
    for (let i = 0; i < 4; i++) {
      c.write(`t${i}.c`, bigSource("scratch", i, 1));
      last.push(`t${i}.c`);
    }
    expect(compareMany(c, last)).toEqual([]);
    expect(c.status().pid).toBe(pid);
    expect(c.daemonPids()).toEqual([pid]);
  });

  test("the scratch directory removed under a running daemon: made again, compiles cached as before", () => {
    const c = new CacheEnv();
    c.write("a.c", bigSource("gone", 0, 1));
    expect(compareMany(c, ["a.c"])).toEqual([]);
    const pid = c.status().pid;
    const scratch = path.join(c.root, "tmp");
    fs.rmSync(scratch, { recursive: true, force: true });
    const rels = ["g0.c", "g1.c"];
    rels.forEach((r, i) => c.write(r, bigSource("gone", i + 1, 1)));
    const before = c.status();
    expect(compareMany(c, rels)).toEqual([]);
    const mid = c.status();
    // Cached, each compiled once: no failure, nothing run uncached.
    expect(mid.misses - before.misses).toBe(rels.length);
    expect(mid.errors - before.errors).toBe(0);
    expect(fs.statSync(scratch).isDirectory()).toBe(true);
    expect(fs.statSync(scratch).mode & 0o777).toBe(0o700);
    expect(compareMany(c, rels)).toEqual([]);
    expect(c.status().hits - mid.hits).toBe(rels.length);
    expect(c.status().pid).toBe(pid);
  });
});
