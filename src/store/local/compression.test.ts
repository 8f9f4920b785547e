// Compressed blobs: stored as <hash>.zst when zstd makes them smaller, named and checked by
// the hash of the plain bytes, always delivered by copy, and refused when damaged.
import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256Hex } from "../../platform/hash.ts";
import { zstdDeclaredSize } from "./blobs.ts";
import { LocalStore } from "./local-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function fresh(level: number): { store: LocalStore; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-compress-"));
  dirs.push(dir);
  const store = new LocalStore(path.join(dir, "cache"));
  store.blobs.compressionLevel = level;
  return { store, dir };
}

/** An object-like file: repetitive enough to compress well. */
function objectBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 97) ^ (i >> 9);
  return b;
}

async function putFile(store: LocalStore, dir: string, bytes: Buffer) {
  const file = path.join(dir, "x.o");
  fs.writeFileSync(file, bytes);
  const r = await store.put("k".repeat(64), { deps: [], absent: [], exitCode: 0, stdout: "", stderr: "", language: "c" }, [{ role: "object", path: file }]);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value.outputs[0] as (typeof r.value.outputs)[0];
}

test("a compressible blob is stored compressed; totals say what it takes and holds", async () => {
  const { store, dir } = fresh(3);
  const bytes = objectBytes(200_000);
  const out = await putFile(store, dir, bytes);
  expect(out.hash).toBe(sha256Hex(bytes));
  expect(fs.existsSync(store.blobs.pathOf(out.hash))).toBe(false);
  const z = store.blobs.compressedPathOf(out.hash);
  expect(fs.statSync(z).size).toBeLessThan(bytes.length / 2);
  expect(store.totals()).toEqual({ entries: 1, bytes: fs.statSync(z).size, uncompressedBytes: bytes.length, plainCopyBytes: 0 });
  expect(Buffer.from(store.readBlob(out.hash, bytes.length) as Uint8Array).equals(bytes)).toBe(true);
  expect(store.readBlob(out.hash, bytes.length + 1)).toBeNull();
  store.close();
});

test("delivery decompresses to the plain bytes, by copy even when hardlinks are asked for", async () => {
  const { store, dir } = fresh(1);
  const bytes = objectBytes(50_000);
  const out = await putFile(store, dir, bytes);
  for (const mode of ["copy", "hardlink", "copy"] as const) {
    const dest = path.join(dir, `out-${mode}.o`);
    expect(await store.materialize(out, dest, mode)).toEqual({ ok: true, value: undefined });
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
    expect(fs.statSync(dest).nlink).toBe(1);
  }
  store.close();
});

test("incompressible bytes stay plain; level 0 stores plain", async () => {
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(4096)));
  const a = fresh(3);
  const out = await putFile(a.store, a.dir, random);
  expect(fs.existsSync(a.store.blobs.pathOf(out.hash))).toBe(true);
  const b = fresh(0);
  const plain = await putFile(b.store, b.dir, objectBytes(10_000));
  expect(fs.existsSync(b.store.blobs.pathOf(plain.hash))).toBe(true);
  expect(fs.existsSync(b.store.blobs.compressedPathOf(plain.hash))).toBe(false);
  a.store.close();
  b.store.close();
});

test("a damaged compressed blob is detected (bad frame, or good frame with other bytes) and dropped", async () => {
  const { store, dir } = fresh(3);
  const bytes = objectBytes(80_000);
  const out = await putFile(store, dir, bytes);
  const z = store.blobs.compressedPathOf(out.hash);
  // Deliver once, so the blob's stat is remembered as verified.
  expect((await store.materialize(out, path.join(dir, "first.o"), "copy")).ok).toBe(true);
  // A valid zstd frame of different content, same length as the original: only the hash tells.
  const other = Buffer.from(bytes);
  other[40_000] = (other[40_000] ?? 0) ^ 1;
  fs.chmodSync(z, 0o644);
  fs.writeFileSync(z, Bun.zstdCompressSync(other, { level: 3 }));
  expect(await store.materialize(out, path.join(dir, "second.o"), "copy")).toEqual({ ok: false, error: "corrupt" });
  expect(fs.existsSync(z)).toBe(false);
  expect(fs.existsSync(path.join(dir, "second.o"))).toBe(false);
  // Recompressed from a fresh miss: the hit is byte-identical again.
  const again = await putFile(store, dir, bytes);
  expect(again.hash).toBe(out.hash);
  const dest = path.join(dir, "third.o");
  expect((await store.materialize(again, dest, "copy")).ok).toBe(true);
  expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
  // Garbage that is not a zstd frame at all.
  fs.chmodSync(z, 0o644);
  fs.writeFileSync(z, Buffer.from("not zstd at all"));
  expect(await store.materialize(again, path.join(dir, "fourth.o"), "copy")).toEqual({ ok: false, error: "corrupt" });
  store.close();
});

test("a frame declaring another size than the blob's is refused before it is inflated", async () => {
  const { store, dir } = fresh(1);
  const bytes = objectBytes(30_000);
  const out = await putFile(store, dir, bytes);
  const z = store.blobs.compressedPathOf(out.hash);
  // A small frame that would inflate to 64 MiB: not decompressed at all.
  const bomb = Bun.zstdCompressSync(Buffer.alloc(64 * 1024 * 1024), { level: 19 });
  expect(zstdDeclaredSize(bomb)).toBe(64 * 1024 * 1024);
  expect(zstdDeclaredSize(fs.readFileSync(z))).toBe(bytes.length);
  fs.chmodSync(z, 0o644);
  fs.writeFileSync(z, bomb);
  expect(await store.materialize(out, path.join(dir, "bomb.o"), "copy")).toEqual({ ok: false, error: "corrupt" });
  expect(zstdDeclaredSize(Buffer.from("not a frame"))).toBeNull();
  store.close();
});

test("a big compressed blob delivered again gets a plain twin; deliveries from it are the same bytes", async () => {
  const { store, dir } = fresh(1);
  store.blobs.setTwinBudget(64 * 1024 * 1024);
  const bytes = objectBytes(3 * 1024 * 1024);
  const out = await putFile(store, dir, bytes);
  const twin = path.join(dir, "cache", "tmp", "hot", out.hash);
  const deliver = async (n: number): Promise<Buffer> => {
    const dest = path.join(dir, `d${n}.o`);
    expect(await store.materialize(out, dest, "copy")).toEqual({ ok: true, value: undefined });
    return fs.readFileSync(dest);
  };
  expect((await deliver(1)).equals(bytes)).toBe(true);
  // Once: nothing more on disk than the compressed blob.
  expect(fs.existsSync(twin)).toBe(false);
  expect((await deliver(2)).equals(bytes)).toBe(true);
  expect(store.blobs.twinHashes()).toEqual([out.hash]);
  expect(store.totals().plainCopyBytes).toBe(bytes.length);
  expect(fs.readFileSync(twin).equals(bytes)).toBe(true);
  // Delivered from the twin (the compressed blob is not even read: damage it to be sure).
  const z = store.blobs.compressedPathOf(out.hash);
  const packed = fs.readFileSync(z);
  fs.chmodSync(z, 0o600);
  fs.writeFileSync(z, Buffer.from("not zstd"));
  expect((await deliver(3)).equals(bytes)).toBe(true);
  // A twin changed under us is caught by its hash, dropped, and the compressed blob used.
  fs.writeFileSync(z, packed);
  fs.chmodSync(twin, 0o600);
  const bad = Buffer.from(bytes);
  bad[1000] = (bad[1000] as number) ^ 1;
  fs.writeFileSync(twin, bad);
  expect((await deliver(4)).equals(bytes)).toBe(true);
  expect(store.blobs.twinHashes()).toEqual([]);
  expect(store.totals().plainCopyBytes).toBe(0);
  expect(fs.existsSync(twin)).toBe(false);
  store.close();
});

test("twins stay within their budget, least recently delivered out first; removing a blob removes its twin", async () => {
  const { store, dir } = fresh(1);
  const size = 2 * 1024 * 1024;
  store.blobs.setTwinBudget(2 * size + 1);
  const outs = [];
  for (let i = 0; i < 3; i++) {
    const bytes = objectBytes(size);
    bytes.writeUInt32LE(i, 0);
    const file = path.join(dir, `x${i}.o`);
    fs.writeFileSync(file, bytes);
    const r = await store.put(String(i).repeat(64), { deps: [], absent: [], exitCode: 0, stdout: "", stderr: "", language: "c" }, [{ role: "object", path: file }]);
    if (!r.ok) throw new Error(r.error.detail);
    outs.push(r.value.outputs[0] as (typeof r.value.outputs)[0]);
  }
  const [a, b, c] = outs as [(typeof outs)[0], (typeof outs)[0], (typeof outs)[0]];
  const twice = async (o: typeof a) => {
    for (let n = 0; n < 2; n++) expect((await store.materialize(o, path.join(dir, "out.o"), "copy")).ok).toBe(true);
  };
  await twice(a);
  await twice(b);
  expect(store.blobs.twinHashes()).toEqual([a.hash, b.hash]);
  // `a` delivered again: `b` is now the least recent, and goes when `c` comes.
  expect((await store.materialize(a, path.join(dir, "out.o"), "copy")).ok).toBe(true);
  await twice(c);
  expect(store.blobs.twinHashes()).toEqual([a.hash, c.hash]);
  expect(fs.readdirSync(path.join(dir, "cache", "tmp", "hot")).sort()).toEqual([a.hash, c.hash].sort());
  store.blobs.remove(a.hash);
  expect(store.blobs.twinHashes()).toEqual([c.hash]);
  expect(fs.readdirSync(path.join(dir, "cache", "tmp", "hot"))).toEqual([c.hash]);
  store.clear();
  expect(fs.readdirSync(path.join(dir, "cache", "tmp", "hot"))).toEqual([]);
  store.close();
});

test("no twin for a small blob, without a budget, or for a plain blob", async () => {
  for (const [level, budget, size] of [
    [1, 64 * 1024 * 1024, 200_000],
    [1, 0, 3 * 1024 * 1024],
    [0, 64 * 1024 * 1024, 3 * 1024 * 1024],
  ] as const) {
    const { store, dir } = fresh(level);
    store.blobs.setTwinBudget(budget);
    const out = await putFile(store, dir, objectBytes(size));
    for (let n = 0; n < 3; n++) expect((await store.materialize(out, path.join(dir, "o.o"), "copy")).ok).toBe(true);
    expect(store.blobs.twinHashes()).toEqual([]);
    expect(fs.existsSync(path.join(dir, "cache", "tmp", "hot"))).toBe(false);
    store.close();
  }
});

test("a lower budget drops twins at once; closing the store removes them", async () => {
  const { store, dir } = fresh(1);
  store.blobs.setTwinBudget(64 * 1024 * 1024);
  const out = await putFile(store, dir, objectBytes(2 * 1024 * 1024));
  for (let n = 0; n < 2; n++) expect((await store.materialize(out, path.join(dir, "o.o"), "copy")).ok).toBe(true);
  const hot = path.join(dir, "cache", "tmp", "hot");
  expect(fs.readdirSync(hot)).toEqual([out.hash]);
  store.blobs.setTwinBudget(1024 * 1024);
  expect(store.blobs.twinHashes()).toEqual([]);
  expect(fs.readdirSync(hot)).toEqual([]);
  store.blobs.setTwinBudget(64 * 1024 * 1024);
  for (let n = 0; n < 2; n++) expect((await store.materialize(out, path.join(dir, "o.o"), "copy")).ok).toBe(true);
  expect(fs.readdirSync(hot)).toEqual([out.hash]);
  store.close();
  expect(fs.readdirSync(hot)).toEqual([]);
});
