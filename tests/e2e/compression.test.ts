// Compressed storage through the real CLI: objects stored as zstd by default, delivered
// byte-identical, the ratio in `status`, a damaged compressed blob detected and replaced by a
// fresh miss, level 0 storing plain blobs, the budget counted on disk, and hardlink delivery
// keeping plain (linkable) blobs unless a level is asked for explicitly.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { bareObject, compileIn, expectOk } from "../assertions.ts";
import { CacheEnv } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

const UNSET = { ZCCACHE_COMPRESSION_LEVEL: undefined, ZCCACHE_DELIVERY: undefined, ZCCACHE_CACHE_SIZE: undefined };

function blobFile(root: string, content: Buffer): { plain: string; zst: string } {
  const hash = createHash("sha256").update(content).digest("hex");
  const plain = path.join(root, "blobs", hash.slice(0, 2), hash);
  return { plain, zst: `${plain}.zst` };
}

/** A source whose object carries a large, repetitive table (compresses well). */
function tableSource(n: number): string {
  return `const int table_${n}[4096] = {${Array.from({ length: 4096 }, (_, i) => (i % 17) * n).join(",")}};\nint get_${n}(int i) { return table_${n}[i]; }\n`;
}

describe("compression", () => {
  test("objects are stored compressed by default; hits are byte-identical; status shows the ratio", () => {
    const c = new CacheEnv(UNSET);
    c.write("t.c", tableSource(3));
    const want = bareObject(c.work, "t.c");
    expectOk(compileIn(c, "t.c"));
    const b = blobFile(c.root, want);
    expect(fs.existsSync(b.plain)).toBe(false);
    expect(fs.statSync(b.zst).size).toBeLessThan(want.length / 2);
    fs.rmSync(path.join(c.work, "t.o"));
    expectOk(compileIn(c, "t.c"));
    expect(c.read("t.o").equals(want)).toBe(true);
    const st = c.status();
    expect({ hits: st.hits, misses: st.misses, level: st.compression_level }).toEqual({ hits: 1, misses: 1, level: 1 });
    expect(st.bytes).toBe(fs.statSync(b.zst).size);
    expect(st.uncompressed_bytes).toBe(want.length);
    const human = c.zc(["status"]).out;
    expect(human).toMatch(/^compression {3}zstd level 1, .* on disk for .* \(ratio \d+\.\d\d, .* saved\)$/m);
  });

  test("a big object delivered again gets a plain copy: same bytes, counted in status, gone when the daemon stops", () => {
    const c = new CacheEnv(UNSET);
    // ~2 MiB of initialised data: an object above the 1 MiB mark that compresses well.
    c.write("big.c", `unsigned char big_table[2 * 1024 * 1024] = { 1, 2, 3 };\nint big_get(int i) { return big_table[i]; }\n`);
    const want = bareObject(c.work, "big.c");
    expect(want.length).toBeGreaterThan(1024 * 1024);
    expectOk(compileIn(c, "big.c"));
    const hot = path.join(c.root, "tmp", "hot");
    const hash = createHash("sha256").update(want).digest("hex");
    for (let n = 0; n < 3; n++) {
      fs.rmSync(path.join(c.work, "big.o"));
      expectOk(compileIn(c, "big.c"));
      expect(c.read("big.o").equals(want)).toBe(true);
      // The first hit inflates; the second makes the copy; the third is served from it.
      expect(fs.existsSync(path.join(hot, hash))).toBe(n >= 1);
    }
    const st = c.status();
    expect(st.hits).toBe(3);
    expect(st.plain_copy_bytes).toBe(want.length);
    expect(c.zc(["status"]).out).toMatch(/^compression {3}zstd level 1, .*; plain copies of big blobs delivered again: /m);
    expectOk(c.zc(["stop"]));
    expect(fs.readdirSync(hot)).toEqual([]);
  });

  test("a damaged compressed blob is detected: a correct object, and the next hit is byte-identical again", () => {
    const c = new CacheEnv(UNSET);
    c.write("d.c", tableSource(5));
    const want = bareObject(c.work, "d.c");
    expectOk(compileIn(c, "d.c"));
    const { zst } = blobFile(c.root, want);
    // A valid zstd frame of other bytes of the same length: only the content hash can tell.
    const other = Buffer.from(want);
    other[other.length >> 1] = (other[other.length >> 1] ?? 0) ^ 0x40;
    fs.chmodSync(zst, 0o644);
    fs.writeFileSync(zst, Bun.zstdCompressSync(other));
    fs.rmSync(path.join(c.work, "d.o"));
    expectOk(compileIn(c, "d.c"));
    expect(c.read("d.o").equals(want)).toBe(true);
    let st = c.status();
    expect(st.reasons["corrupt-entry"]).toBe(1);
    expect(st.hits).toBe(0);
    // Recompressed by that miss: the next compile is a hit with the right bytes.
    expect(Buffer.from(Bun.zstdDecompressSync(fs.readFileSync(zst))).equals(want)).toBe(true);
    fs.rmSync(path.join(c.work, "d.o"));
    expectOk(compileIn(c, "d.c"));
    expect(c.read("d.o").equals(want)).toBe(true);
    st = c.status();
    expect(st.hits).toBe(1);
    expect(st.errors).toBe(0);
  });

  test("compression_level 0 stores plain blobs; entries already compressed still hit", () => {
    const c = new CacheEnv(UNSET);
    c.write("a.c", tableSource(7));
    c.write("b.c", tableSource(11));
    const a = bareObject(c.work, "a.c");
    const b = bareObject(c.work, "b.c");
    expectOk(compileIn(c, "a.c"));
    expect(fs.existsSync(blobFile(c.root, a).zst)).toBe(true);
    // A config-file edit applies to the running daemon (at its next status or persist tick).
    fs.writeFileSync(path.join(c.root, "zccache.conf"), "compression_level = 0\n");
    expect(c.status().compression_level).toBe(0);
    expectOk(compileIn(c, "b.c"));
    expect(fs.existsSync(blobFile(c.root, b).plain)).toBe(true);
    for (const [src, want] of [["a.c", a], ["b.c", b]] as const) {
      fs.rmSync(path.join(c.work, src.replace(".c", ".o")));
      expectOk(compileIn(c, src));
      expect(c.read(src.replace(".c", ".o")).equals(want)).toBe(true);
    }
    expect(c.status().hits).toBe(2);
  });

  test("the size budget counts bytes on disk", async () => {
    const c = new CacheEnv({ ...UNSET, ZCCACHE_CACHE_SIZE: "1G" });
    for (let n = 0; n < 4; n++) {
      c.write(`s${n}.c`, tableSource(20 + n));
      expectOk(compileIn(c, `s${n}.c`));
    }
    const st = c.status();
    let disk = 0;
    for (const shard of fs.readdirSync(path.join(c.root, "blobs"))) {
      for (const f of fs.readdirSync(path.join(c.root, "blobs", shard))) disk += fs.statSync(path.join(c.root, "blobs", shard, f)).size;
    }
    expect(st.bytes).toBe(disk);
    expect(st.uncompressed_bytes).toBeGreaterThan(2 * disk);
  });

  test("hardlink delivery keeps blobs plain (linkable) unless a level is set; a set level is delivered by copy", () => {
    // As root hardlinks fall back to copy: the hardlink path runs as an unprivileged user.
    const linked = CacheEnv.unprivileged({ ...UNSET, ZCCACHE_DELIVERY: "hardlink" });
    linked.write("h.c", tableSource(13));
    const want = bareObject(linked.work, "h.c");
    expectOk(compileIn(linked, "h.c"));
    fs.rmSync(path.join(linked.work, "h.o"));
    expectOk(compileIn(linked, "h.c"));
    const b = blobFile(linked.root, want);
    expect(linked.status().compression_level).toBe(0);
    expect(fs.statSync(path.join(linked.work, "h.o")).ino).toBe(fs.statSync(b.plain).ino);

    const both = CacheEnv.unprivileged({ ...UNSET, ZCCACHE_DELIVERY: "hardlink", ZCCACHE_COMPRESSION_LEVEL: "3" });
    both.write("h.c", tableSource(13));
    expectOk(compileIn(both, "h.c"));
    fs.rmSync(path.join(both.work, "h.o"));
    expectOk(compileIn(both, "h.c"));
    expect(both.status().hits).toBe(1);
    expect(both.read("h.o").equals(want)).toBe(true);
    expect(fs.existsSync(blobFile(both.root, want).zst)).toBe(true);
    expect(fs.statSync(path.join(both.work, "h.o")).nlink).toBe(1);
  });
});
