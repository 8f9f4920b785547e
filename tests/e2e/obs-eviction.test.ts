// Store size budget and eviction: ZCCACHE_CACHE_SIZE and `cache_size` in zccache.conf set a
// budget; the daemon evicts least-recently-used entries in the background to stay under it;
// `entries`/`bytes` in `status --json` match the blob files on disk; `clear` empties the
// store while the same daemon keeps running; `config` reports cache_size and its source.
// Budgets here are in plain bytes (compression off); tests/e2e/compression.test.ts covers
// budgets counted compressed.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, type RunResult, sleepMs, type Status } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

type Env = Record<string, string | undefined>;

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

function statusOf(c: CacheEnv, env: Env = {}): Status {
  const r = expectOk(c.zc(["status", "--json"], { env }), "status --json");
  return JSON.parse(r.out) as Status;
}

function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Every blob file under <root>/blobs, by name (its sha256), with its size. */
function blobFiles(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const dir = path.join(root, "blobs");
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else out.set(ent.name, fs.statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

/** status bytes == the bytes of the blob files; one object blob per entry in these tests. */
function expectStoreMatchesDisk(root: string, st: Status): Map<string, number> {
  const blobs = blobFiles(root);
  let sum = 0;
  for (const size of blobs.values()) sum += size;
  expect(st.bytes).toBe(sum);
  expect(st.entries).toBe(blobs.size);
  return blobs;
}

/** A C source whose object carries a ~4.8 KB table unique to `n`. */
function bigSource(n: number): string {
  const values = Array.from({ length: 1200 }, (_, i) => (n * 1_000_003 + i * 7919) % 2_147_483_647);
  return `const int table_${n}[1200] = {${values.join(",")}};\nint get_${n}(int i) { return table_${n}[i]; }\n`;
}

function name(n: number): string {
  return `s${String(n).padStart(2, "0")}`;
}

async function pollUntil(c: CacheEnv, env: Env, done: (s: Status) => boolean, what: string): Promise<Status> {
  const deadline = Date.now() + 20_000;
  let st = statusOf(c, env);
  while (!done(st)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen: ${JSON.stringify(st)}`);
    await sleepMs(200);
    st = statusOf(c, env);
  }
  return st;
}

describe("size budget and LRU eviction", () => {
  const c = new CacheEnv({ ZCCACHE_CACHE_SIZE: undefined, ZCCACHE_LOG_LEVEL: undefined, ZCCACHE_COMPRESSION_LEVEL: "0" });
  const BIG: Env = { ZCCACHE_CACHE_SIZE: "10G" };
  const SMALL: Env = { ZCCACHE_CACHE_SIZE: "40960" };
  const N = 30;

  const compile = (n: number, env: Env): RunResult =>
    expectOk(c.zc(["gcc", "-c", `${name(n)}.c`, "-o", `${name(n)}.o`], { env }), `compile ${name(n)}`);

  /** "hit" or "miss", read from the counters around one compile. */
  const outcomeOf = (n: number, env: Env): string => {
    const before = statusOf(c, env);
    compile(n, env);
    const after = statusOf(c, env);
    if (after.hits === before.hits + 1 && after.misses === before.misses) return "hit";
    if (after.misses === before.misses + 1 && after.hits === before.hits) return "miss";
    return `unexpected: ${JSON.stringify({ before, after })}`;
  };

  test("a budget in the environment evicts the least recently used entries down to it", async () => {
    for (let n = 0; n < N; n++) c.write(`${name(n)}.c`, bigSource(n));

    // Fill the store under a roomy 10G budget: 30 entries of several KB each.
    for (let n = 0; n < N; n++) compile(n, BIG);
    // Use the three oldest again: they become the most recently used.
    for (const n of [0, 1, 2]) compile(n, BIG);
    const full = statusOf(c, BIG);
    expect(full.cache_size_limit_bytes).toBe(10 * 1024 ** 3);
    expect(full.misses).toBe(N);
    expect(full.hits).toBe(3);
    expect(full.entries).toBe(N);
    const sizes = new Map<number, number>();
    for (let n = 0; n < N; n++) {
      const obj = c.read(`${name(n)}.o`);
      expect(obj.length).toBeGreaterThan(4800);
      sizes.set(n, obj.length);
    }
    const allBlobs = expectStoreMatchesDisk(c.root, full);
    let total = 0;
    for (const s of sizes.values()) total += s;
    expect(full.bytes).toBe(total);
    expect(allBlobs.size).toBe(N);
    const oldPid = full.pid;

    // Restart the daemon with a 40960-byte budget (bytes, no unit).
    expectOk(c.zc(["stop"]), "stop");
    const small = statusOf(c, SMALL);
    expect(small.pid).not.toBe(oldPid);
    expect(small.cache_size_limit_bytes).toBe(40960);

    const st = await pollUntil(c, SMALL, (s) => s.bytes <= 40960, "eviction under a 40960-byte budget");
    expect(st.bytes).toBeLessThanOrEqual(40960);
    expect(st.entries).toBeGreaterThan(0);

    // Eviction goes by last use: s03..s29 (inserted in order), then s00, s01, s02 (used again).
    // It stops as soon as the store is at or under 90% of the budget, so exactly the longest
    // most-recently-used suffix that fits in 36864 bytes survives.
    const lru = [...Array.from({ length: N - 3 }, (_, i) => i + 3), 0, 1, 2];
    const survivors = new Set<number>();
    let kept = 0;
    for (let i = lru.length - 1; i >= 0; i--) {
      const n = lru[i] as number;
      const s = sizes.get(n) as number;
      if (kept + s > Math.floor(40960 * 0.9)) break;
      kept += s;
      survivors.add(n);
    }
    const blobs = expectStoreMatchesDisk(c.root, st);
    expect(st.bytes).toBe(kept);
    expect(st.entries).toBe(survivors.size);
    const onDisk = new Set<number>();
    for (let n = 0; n < N; n++) if (blobs.has(sha256(c.read(`${name(n)}.o`)))) onDisk.add(n);
    expect([...onDisk].sort((a, b) => a - b)).toEqual([...survivors].sort((a, b) => a - b));
    expect(st.evicted).toBe(N - survivors.size);

    // The most recently used entries are still hits, the oldest ones are gone.
    for (const n of [0, 1, 2, 29]) expect(`${name(n)}: ${outcomeOf(n, SMALL)}`).toBe(`${name(n)}: hit`);
    for (const n of [3, 4, 5, 6, 7, 8]) expect(`${name(n)}: ${outcomeOf(n, SMALL)}`).toBe(`${name(n)}: miss`);

    const log = fs.readFileSync(path.join(c.root, "logs", "daemon.log"), "utf8");
    expect(log).toContain("evicted");
  });

  test("clear empties the store while the same daemon keeps running", () => {
    const before = statusOf(c, SMALL);
    expect(before.entries).toBeGreaterThan(0);
    expect(blobFiles(c.root).size).toBeGreaterThan(0);
    const pidsBefore = c.daemonPids();
    expect(pidsBefore).toEqual([before.pid]);

    const r = expectOk(c.zc(["clear"], { env: SMALL }), "clear");
    expect(r.out).toContain("cleared");
    const after = statusOf(c, SMALL);
    expect(after.pid).toBe(before.pid);
    expect(c.daemonPids()).toEqual([before.pid]);
    expect(after.entries).toBe(0);
    expect(after.bytes).toBe(0);
    expect(blobFiles(c.root).size).toBe(0);
    // Counters are not the store: clear keeps them.
    expect(after.hits).toBe(before.hits);
    expect(after.misses).toBe(before.misses);

    // What was a hit before is a miss now, and is stored again.
    expect(outcomeOf(29, SMALL)).toBe("miss");
    const st = statusOf(c, SMALL);
    expect(st.pid).toBe(before.pid);
    expect(st.entries).toBe(1);
    const blobs = expectStoreMatchesDisk(c.root, st);
    expect(blobs.has(sha256(c.read("s29.o")))).toBe(true);
    expect(outcomeOf(29, SMALL)).toBe("hit");
  });
});

describe("shared blobs", () => {
  const c = new CacheEnv({ ZCCACHE_CACHE_SIZE: undefined, ZCCACHE_COMPRESSION_LEVEL: "0" });

  test("entries sharing one object blob count its bytes once; a user depfile is described, not stored", () => {
    c.write("d.c", bigSource(500));
    // An unused macro does not change the object: two entries, one object blob.
    for (const v of ["1", "2"]) expectOk(c.zc(["gcc", `-DUNUSED=${v}`, "-c", "d.c", "-o", "d.o"]), `gcc -DUNUSED=${v}`);
    const obj = c.read("d.o");
    let st = statusOf(c);
    expect(st.misses).toBe(2);
    expect(st.entries).toBe(2);
    const blobs = blobFiles(c.root);
    expect([...blobs.keys()]).toEqual([sha256(obj)]);
    expect(st.bytes).toBe(obj.length);

    // With a depfile: the entry holds it as a template (rendered for each hit's targets and
    // tree), so still one blob, the object's.
    expectOk(c.zc(["gcc", "-DUNUSED=3", "-MD", "-MF", "d.d", "-c", "d.c", "-o", "d.o"]), "gcc -MD");
    st = statusOf(c);
    expect(st.entries).toBe(3);
    const withDep = blobFiles(c.root);
    expect([...withDep.keys()]).toEqual([sha256(obj)]);
    expect(withDep.has(sha256(c.read("d.d")))).toBe(false);
    expect(st.bytes).toBe(obj.length);
  });
});

describe("cache_size in the config file", () => {
  const c = new CacheEnv({ ZCCACHE_CACHE_SIZE: undefined, ZCCACHE_COMPRESSION_LEVEL: "0" });

  test("cache_size = 20K in zccache.conf is the budget, and the daemon stays under it", async () => {
    fs.mkdirSync(c.root, { recursive: true });
    fs.writeFileSync(path.join(c.root, "zccache.conf"), "# budget for this test\ncache_size = 20K\n");
    const cfg = expectOk(c.zc(["config"]), "config");
    expect(cfg.out).toMatch(/^cache_size = 20480 \(file\)$/m);

    for (let n = 0; n < 10; n++) {
      c.write(`f${n}.c`, bigSource(100 + n));
      expectOk(c.zc(["gcc", "-c", `f${n}.c`, "-o", `f${n}.o`]), `compile f${n}`);
    }
    expect(statusOf(c).cache_size_limit_bytes).toBe(20480);
    const st = await pollUntil(c, {}, (s) => s.bytes <= 20480, "eviction under a 20K budget");
    expect(st.misses).toBe(10);
    expect(st.entries).toBeGreaterThan(0);
    expect(st.entries).toBeLessThan(10);
    expect(st.evicted).toBe(10 - st.entries);
    expectStoreMatchesDisk(c.root, st);
    // The newest object survived eviction.
    expect(blobFiles(c.root).has(sha256(c.read("f9.o")))).toBe(true);

    // The environment overrides the file.
    const over = expectOk(c.zc(["config"], { env: { ZCCACHE_CACHE_SIZE: "1G" } }), "config");
    expect(over.out).toMatch(/^cache_size = 1073741824 \(env\)$/m);
  });

  test("sizes: 500M and 10G from the environment; the 10G default", () => {
    const d = new CacheEnv({ ZCCACHE_CACHE_SIZE: undefined, ZCCACHE_COMPRESSION_LEVEL: "0" });
    const def = expectOk(d.zc(["config"]), "config");
    expect(def.out).toMatch(/^cache_size = 10737418240 \(default\)$/m);
    expect(statusOf(d).cache_size_limit_bytes).toBe(10 * 1024 ** 3);

    const e = new CacheEnv({ ZCCACHE_CACHE_SIZE: "500M" });
    const cfg = expectOk(e.zc(["config"]), "config");
    expect(cfg.out).toMatch(/^cache_size = 524288000 \(env\)$/m);
    expect(statusOf(e).cache_size_limit_bytes).toBe(500 * 1024 * 1024);
    const human = expectOk(e.zc(["status"]), "status");
    expect(human.out).toContain("500.0 MiB");
  });
});
