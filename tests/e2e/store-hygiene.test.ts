// What the daemon leaves on disk: a cache root it creates is private (the journal holds whole
// command lines), a shared root keeps its mode, a deleted root is recreated, hardlinks are
// never handed out as root, and a stopped daemon removes its lock file.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { bareObject, compileIn, expectOk, waitUntil } from "../assertions.ts";
import { CacheEnv, run } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

const IS_ROOT = (process.getuid?.() ?? -1) === 0;
const UMASK = process.umask();
const ROOT_FALLBACK = "copy (hardlink requested via env; falls back to copy when running as root)";

/** Writes a source aged past the racy window, so the first compile is stored. */
function writeAged(c: CacheEnv, rel: string, text: string): string {
  const p = c.write(rel, text);
  const old = new Date(Date.now() - 10_000);
  fs.utimesSync(p, old, old);
  return p;
}

function walk(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) out.push(...walk(p));
  }
  return out;
}

/** The blob file of `content`: <sha256>, or <sha256>.zst when it was stored compressed. */
function blobOf(root: string, content: Buffer): string {
  const hash = createHash("sha256").update(content).digest("hex");
  const plain = path.join(root, "blobs", hash.slice(0, 2), hash);
  return !fs.existsSync(plain) && fs.existsSync(`${plain}.zst`) ? `${plain}.zst` : plain;
}

function blobContent(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  return file.endsWith(".zst") ? Buffer.from(Bun.zstdDecompressSync(bytes)) : bytes;
}

/** Miss, then hit, of `gcc -DTOKEN=… -c p.c` (the define is what the journal must not leak). */
function missThenHit(c: CacheEnv): void {
  writeAged(c, "p.h", "#define P 3\n");
  writeAged(c, "p.c", '#include "p.h"\nint p_fn(void) { return P + TOKEN; }\n');
  const argv = ["gcc", "-DTOKEN=0x5ec7e7", "-MD", "-c", "p.c", "-o", "p.o"];
  expectOk(c.zc(argv), "miss");
  fs.rmSync(path.join(c.work, "p.o"));
  expectOk(c.zc(argv), "hit");
  const st = c.status();
  expect({ hits: st.hits, misses: st.misses, entries: st.entries }).toEqual({ hits: 1, misses: 1, entries: 1 });
}

describe("cache root permissions", () => {
  test("a root zccache creates is private: every dir under it 0700, every file 0600 or stricter", () => {
    const c = new CacheEnv();
    expect(fs.existsSync(c.root)).toBe(false);
    missThenHit(c);
    expect(c.zc(["explain", "p.o"]).code).toBe(0);
    expect(c.zc(["stop"]).code).toBe(0);
    // What there is to protect is really there.
    expect(fs.readFileSync(path.join(c.root, "logs", "compile_journal.jsonl"), "utf8")).toContain("TOKEN=0x5ec7e7");

    const all = [{ path: c.root, mode: fs.statSync(c.root).mode & 0o777, dir: true }, ...walk(c.root)];
    const names = all.map((e) => path.relative(c.root, e.path));
    for (const want of ["index.sqlite", "history.sqlite", "logs/daemon.log", "logs/compile_journal.jsonl", "blobs", "tmp"]) {
      expect(names).toContain(want);
    }
    // A shard and the object's blob (the -MD depfile is a template in the entry, rendered on a hit).
    expect(names.filter((n) => n.startsWith("blobs/")).length).toBeGreaterThanOrEqual(2);
    const open = all.filter((e) => (e.dir ? e.mode !== 0o700 : (e.mode & ~0o600) !== 0));
    expect(open.map((e) => `${e.mode.toString(8)} ${path.relative(c.root, e.path) || "."}`)).toEqual([]);
  });

  test("a root the user made shared (pre-created 0770) keeps its mode; what we create follows the umask", () => {
    const c = new CacheEnv();
    fs.mkdirSync(c.root);
    fs.chmodSync(c.root, 0o770);
    missThenHit(c);
    expect(c.zc(["stop"]).code).toBe(0);
    expect(fs.statSync(c.root).mode & 0o777).toBe(0o770);
    const mode = (rel: string): number => fs.statSync(path.join(c.root, rel)).mode & 0o777;
    expect(mode("index.sqlite")).toBe(0o666 & ~UMASK);
    expect(mode("logs")).toBe(0o777 & ~UMASK);
    expect(mode("logs/compile_journal.jsonl")).toBe(0o666 & ~UMASK);
    expect(mode(path.relative(c.root, blobOf(c.root, c.read("p.o"))))).toBe(0o444 & ~UMASK);
  });

  test("a delivered copy gets a compiler's output mode, not the read-only blob's", async () => {
    const c = new CacheEnv();
    writeAged(c, "m.c", "int m_fn(void) { return 7; }\n");
    const o = path.join(c.work, "m.o");
    expectOk(compileIn(c, "m.c"), "miss");
    const compiled = fs.statSync(o).mode & 0o777;
    // Hits until one is served from the daemon's verified-blob memo (the blob must be older
    // than the racy window first): every delivery must look like the compiler's own output.
    await Bun.sleep(2_500);
    for (let i = 0; i < 3; i++) {
      fs.rmSync(o);
      expectOk(compileIn(c, "m.c"), `hit ${i}`);
      expect(fs.statSync(o).mode & 0o777).toBe(compiled);
    }
    expect(c.status().hits).toBe(3);
  });
});

describe("a cache root deleted while the daemon runs", () => {
  test("is recreated on the next compile: cached again at once, status works", () => {
    const c = new CacheEnv();
    writeAged(c, "d.c", "int d_fn(int x) { return x * 31; }\n");
    const want = bareObject(c.work, "d.c");
    expectOk(compileIn(c, "d.c"), "first compile");
    const pid = c.status().pid;

    fs.rmSync(c.root, { recursive: true, force: true });
    fs.rmSync(path.join(c.work, "d.o"));
    expectOk(compileIn(c, "d.c"), "compile after rm -rf");
    expect(c.read("d.o").equals(want)).toBe(true);
    fs.rmSync(path.join(c.work, "d.o"));
    expectOk(compileIn(c, "d.c"), "third compile");
    expect(c.read("d.o").equals(want)).toBe(true);

    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.store).toBe("ok");
    expect({ hits: st.hits, misses: st.misses, entries: st.entries, errors: st.errors }).toEqual({ hits: 1, misses: 2, entries: 1, errors: 0 });
    expect(st.reasons["cache-unavailable"]).toBeUndefined();
    expect(fs.statSync(c.root).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(blobOf(c.root, want))).toBe(true);
  });
});

describe("hardlink delivery as root", () => {
  test("falls back to copy: writing into a delivered object reaches neither the cache nor another tree", () => {
    const c = new CacheEnv({ ZCCACHE_DELIVERY: "hardlink" });
    writeAged(c, "h.c", "int h_fn(int x) { return x ^ 0x77; }\n");
    const want = bareObject(c.work, "h.c");
    const o = path.join(c.work, "h.o");
    expectOk(compileIn(c, "h.c"), "miss");
    fs.rmSync(o);
    expectOk(compileIn(c, "h.c"), "hit");
    const st = c.status();
    expect(st.hits).toBe(1);
    const config = expectOk(c.zc(["config"]), "config").out;
    const human = expectOk(c.zc(["status"]), "status").out;
    if (!IS_ROOT) {
      // Not root: hardlinks are what was asked for, and nothing says otherwise.
      expect(st.delivery).toBe("hardlink");
      expect(config).toContain("delivery = hardlink (env)\n");
      return;
    }
    expect({ delivery: st.delivery, requested: st.delivery_requested, note: st.delivery_note }).toEqual({
      delivery: "copy",
      requested: "hardlink",
      note: "hardlink requested via env; falls back to copy when running as root",
    });
    expect(config).toContain(`delivery = ${ROOT_FALLBACK}\n`);
    expect(human).toContain(`delivery      ${ROOT_FALLBACK}\n`);

    const blob = blobOf(c.root, want);
    expect(fs.statSync(o).ino).not.toBe(fs.statSync(blob).ino);
    // `cp` opens the existing object for writing and writes through whatever inode it is.
    const other = c.write("other.bin", Buffer.alloc(want.length, 0xab));
    expect(run(["cp", other, o]).code).toBe(0);
    expect(blobContent(blob).equals(want)).toBe(true);

    // Another tree's hit (the edited object kept where it is, a fresh one delivered).
    fs.renameSync(o, path.join(c.work, "h.tree1.o"));
    expectOk(compileIn(c, "h.c"), "hit in another tree");
    expect(c.read("h.o").equals(want)).toBe(true);
    const after = c.status();
    expect({ hits: after.hits, misses: after.misses, errors: after.errors }).toEqual({ hits: 2, misses: 1, errors: 0 });
  });
});

describe("the start lock", () => {
  test("a daemon that stops removes its lock file and socket; the next one starts cleanly", () => {
    const c = new CacheEnv();
    for (let round = 0; round < 3; round++) {
      expect(c.zc(["start"]).code).toBe(0);
      const st = c.status();
      const lock = st.socket.replace(/\.sock$/, ".lock");
      expect(fs.readFileSync(lock, "utf8").trim()).toBe(String(st.pid));
      expect(c.zc(["stop"]).code).toBe(0);
      expect(fs.existsSync(lock)).toBe(false);
      expect(fs.existsSync(st.socket)).toBe(false);
    }
  });

  test("stop, then many clients racing to start: exactly one daemon, holding the lock file that exists", async () => {
    const c = new CacheEnv();
    for (let round = 0; round < 4; round++) {
      expect(c.zc(["start"]).code).toBe(0);
      const stopping = c.zcAsync(["stop"]);
      const starts = Array.from({ length: 12 }, () => c.zcAsync(["start"]));
      await stopping;
      for (const r of await Promise.all(starts)) expect(r.code).toBe(0);
      // A start returns once any daemon answers; a daemon that lost the race for the lock
      // may still be on its way out.
      await waitUntil(() => c.daemonPids().length <= 1, 15_000);
      const st = c.status();
      expect(c.daemonPids()).toEqual([st.pid]);
      expect(fs.readFileSync(st.socket.replace(/\.sock$/, ".lock"), "utf8").trim()).toBe(String(st.pid));
    }
  });
});
