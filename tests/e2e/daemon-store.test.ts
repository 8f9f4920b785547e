// The local store on disk: a WAL-mode SQLite index, content-addressed blobs, delivery that
// survives in-place edits of delivered objects, corrupt blobs detected, and `clear`.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv } from "../helpers.ts";
import { bareObject, compileIn, expectOk } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

/** What a blob file holds: its bytes, decompressed when it is a .zst. */
function contentOf(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  return file.endsWith(".zst") ? Buffer.from(Bun.zstdDecompressSync(bytes)) : bytes;
}

interface BlobFile {
  readonly name: string;
  readonly file: string;
}

/** Every blob file under <root>/blobs/<2 hex>/<64 hex>; anything else there fails the test. */
function blobFiles(root: string): BlobFile[] {
  const dir = path.join(root, "blobs");
  const out: BlobFile[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const shard of fs.readdirSync(dir)) {
    expect(shard).toMatch(/^[0-9a-f]{2}$/);
    for (const file of fs.readdirSync(path.join(dir, shard))) {
      // <sha256>, or <sha256>.zst when zstd made it smaller (compression_level, default 1).
      expect(file).toMatch(/^[0-9a-f]{64}(\.zst)?$/);
      const name = file.slice(0, 64);
      expect(name.slice(0, 2)).toBe(shard);
      out.push({ name, file: path.join(dir, shard, file) });
    }
  }
  return out;
}

/** The single blob whose content is `content`; also checks it is named by its sha256. */
function blobFor(root: string, content: Buffer): BlobFile {
  const hash = sha256(content);
  const matches = blobFiles(root).filter((b) => b.name === hash);
  expect(matches.length).toBe(1);
  const b = matches[0] as BlobFile;
  const bytes = contentOf(b.file);
  expect(sha256(bytes)).toBe(b.name);
  expect(bytes.equals(content)).toBe(true);
  return b;
}

function inode(p: string): bigint {
  return fs.statSync(p, { bigint: true }).ino;
}

describe("local store", () => {
  test("the index is SQLite in WAL mode; blobs are named by the sha256 of their content", () => {
    const c = new CacheEnv();
    c.write("s.c", "int store_fn(int a, int b) { return a * b + 1; }\n");
    expectOk(compileIn(c, "s.c"));
    const obj = c.read("s.o");
    expect(obj.equals(bareObject(c.work, "s.c"))).toBe(true);

    const db = new Database(path.join(c.root, "index.sqlite"), { readonly: true });
    try {
      const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get();
      expect(mode?.journal_mode).toBe("wal");
    } finally {
      db.close();
    }

    const blobs = blobFiles(c.root);
    expect(blobs.length).toBe(1);
    for (const b of blobs) expect(sha256(contentOf(b.file))).toBe(b.name);
    const b = blobFor(c.root, obj);
    // Compressed by default: zstd level 1 makes an object smaller.
    expect(b.file).toBe(path.join(c.root, "blobs", b.name.slice(0, 2), `${b.name}.zst`));

    const st = c.status();
    expect(st.entries).toBe(1);
    expect(st.bytes).toBe(fs.statSync(b.file).size);
    expect(st.uncompressed_bytes).toBe(obj.length);
    expect(st.compression_level).toBe(1);
  });

  for (const mode of ["hardlink", "copy"] as const) {
    test(`${mode} delivery: editing a delivered object in place never leaks into the store`, () => {
      // As root hardlinks fall back to copy: the hardlink path runs as an unprivileged user.
      const c = mode === "hardlink" ? CacheEnv.unprivileged({ ZCCACHE_DELIVERY: mode }) : new CacheEnv({ ZCCACHE_DELIVERY: mode });
      c.write("h.c", "int hard_fn(int x) { return x ^ 0x5a; }\n");
      const want = bareObject(c.work, "h.c");
      const objPath = path.join(c.work, "h.o");

      expectOk(compileIn(c, "h.c")); // miss
      expect(c.read("h.o").equals(want)).toBe(true);
      const blob = blobFor(c.root, want);
      expect(c.status().delivery).toBe(mode);

      expectOk(compileIn(c, "h.c")); // hit: delivered from the store
      expect(c.status().hits).toBe(1);
      expect(c.read("h.o").equals(want)).toBe(true);
      if (mode === "hardlink") expect(inode(objPath)).toBe(inode(blob.file));
      else expect(inode(objPath)).not.toBe(inode(blob.file));

      // A tool edits the delivered object in place.
      fs.appendFileSync(objPath, Buffer.from("appended by a post-processing tool\n"));
      if (mode === "copy") blobFor(c.root, want); // a copy shares nothing with the store

      // Compile again with the edited object still there.
      expectOk(compileIn(c, "h.c"));
      expect(c.read("h.o").equals(want)).toBe(true);
      blobFor(c.root, want);

      // Edit the delivered object again, then delete it, then compile.
      fs.appendFileSync(objPath, Buffer.from("more bytes\n"));
      fs.rmSync(objPath);
      expectOk(compileIn(c, "h.c"));
      expect(c.read("h.o").equals(want)).toBe(true);
      blobFor(c.root, want);

      // And a plain hit afterwards is still right.
      fs.rmSync(objPath);
      expectOk(compileIn(c, "h.c"));
      expect(c.read("h.o").equals(want)).toBe(true);
      blobFor(c.root, want);

      const st = c.status();
      expect(st.errors).toBe(0);
      expect(st.entries).toBe(1);
      expect(st.hits + st.misses).toBe(5);
      if (mode === "copy") {
        expect(st.hits).toBe(4);
        expect(st.misses).toBe(1);
      }

      // A miss that overwrites a delivered object must not write through to the old blob.
      const oldSource = fs.readFileSync(path.join(c.work, "h.c"));
      c.write("h.c", "int hard_fn(int x) { return x ^ 0x33; }\n");
      const want2 = bareObject(c.work, "h.c");
      expect(want2.equals(want)).toBe(false);
      expectOk(compileIn(c, "h.c"));
      expect(c.read("h.o").equals(want2)).toBe(true);
      blobFor(c.root, want);
      blobFor(c.root, want2);
      // Back to the first source: a hit delivering the first object.
      c.write("h.c", oldSource);
      expectOk(compileIn(c, "h.c"));
      expect(c.read("h.o").equals(want)).toBe(true);
      const st2 = c.status();
      expect(st2.hits).toBe(st.hits + 1);
      expect(st2.entries).toBe(2);
    });
  }

  test("a corrupted blob is detected: correct object, corrupt-entry miss", () => {
    const c = new CacheEnv();
    c.write("k.c", "int corrupt_fn(int x) { return x - 42; }\n");
    const want = bareObject(c.work, "k.c");
    expectOk(compileIn(c, "k.c"));
    const blob = blobFor(c.root, want);

    // Same size, different bytes.
    fs.chmodSync(blob.file, 0o644);
    const garbage = Buffer.from(want.map((x) => x ^ 0xff));
    fs.writeFileSync(blob.file, garbage);
    expect(fs.readFileSync(blob.file).equals(want)).toBe(false);

    fs.rmSync(path.join(c.work, "k.o"));
    expectOk(compileIn(c, "k.c"));
    expect(c.read("k.o").equals(want)).toBe(true);
    let st = c.status();
    expect(st.reasons["corrupt-entry"]).toBe(1);
    expect(st.hits).toBe(0);
    expect(st.misses).toBe(2);
    expect(st.errors).toBe(0);
    // The recompile re-stored a good blob and a single entry.
    blobFor(c.root, want);
    expect(st.entries).toBe(1);

    // Truncated blob: the same.
    fs.chmodSync(blob.file, 0o644);
    fs.writeFileSync(blob.file, want.subarray(0, 16));
    fs.rmSync(path.join(c.work, "k.o"));
    expectOk(compileIn(c, "k.c"));
    expect(c.read("k.o").equals(want)).toBe(true);
    st = c.status();
    expect(st.reasons["corrupt-entry"]).toBe(2);
    expect(st.hits).toBe(0);

    // Then a normal hit.
    fs.rmSync(path.join(c.work, "k.o"));
    expectOk(compileIn(c, "k.c"));
    expect(c.read("k.o").equals(want)).toBe(true);
    expect(c.status().hits).toBe(1);
  });

  test("clear empties the store; the daemon keeps running and the next compile misses", () => {
    const c = new CacheEnv();
    c.write("x.c", "int clear_x(void) { return 1; }\n");
    c.write("y.c", "int clear_y(void) { return 2; }\n");
    expectOk(compileIn(c, "x.c"));
    expectOk(compileIn(c, "y.c"));
    const before = c.status();
    expect(before.entries).toBe(2);
    expect(before.bytes).toBeGreaterThan(0);
    expect(blobFiles(c.root).length).toBe(2);
    const pid = before.pid;

    const r = c.zc(["clear"]);
    expectOk(r);
    const after = c.status();
    expect(after.pid).toBe(pid);
    expect(c.daemonPids()).toEqual([pid]);
    expect(after.entries).toBe(0);
    expect(after.bytes).toBe(0);
    expect(blobFiles(c.root).length).toBe(0);

    fs.rmSync(path.join(c.work, "x.o"));
    expectOk(compileIn(c, "x.c"));
    expect(c.read("x.o").equals(bareObject(c.work, "x.c"))).toBe(true);
    const next = c.status();
    expect(next.pid).toBe(pid);
    expect(next.hits).toBe(before.hits);
    expect(next.misses).toBe(before.misses + 1);
    expect(next.entries).toBe(1);
    expect(next.reasons["new-source"]).toBe(3);
  });
});
