// Corruption: blobs truncated, bit-flipped, zero-filled, grown, swapped or deleted; index
// rows with flipped bytes; an index file with a garbage header, cut in half, or deleted.
// Compiles must stay byte-identical to bare, the damage must be detected and counted, and
// the store must repair itself (a damaged entry becomes a miss and is written again).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, sleepMs } from "../helpers.ts";
import {
  blobIntact,
  blobPath,
  diffObserved,
  type IndexEntry,
  observe,
  outputsOf,
  readIndex,
  reason,
  removeOutputs,
  Rng,
  seedFromEnv,
} from "./lib.ts";

afterAll(() => CacheEnv.stopAll());

const SEED = seedFromEnv("ZCCACHE_CORRUPT_SEED");
console.log(`corruption: ZCCACHE_CORRUPT_SEED=${SEED}`);

const N = 14;

interface Unit {
  readonly argv: string[];
  readonly outputs: string[];
}

/** Sources with distinct objects; odd ones warn (non-empty stderr), every third has -MD. */
function makeProject(c: CacheEnv, tag: string): Unit[] {
  c.write("inc/shared.h", `#define SHARED_${tag} 3\n`);
  const units: Unit[] = [];
  for (let i = 0; i < N; i++) {
    const warn = i % 2 === 1 ? `static int unused_${i};\n` : "";
    c.write(`src/u${i}.c`, `#include "shared.h"\n${warn}int u${i}(int x) { return x * ${i + 2} + SHARED_${tag} + ${i * 97}; }\n`);
    const outputs = [`out/u${i}.o`];
    const argv = ["gcc", "-O1", "-Wall", "-Iinc", "-c", `src/u${i}.c`, "-o", `out/u${i}.o`];
    if (i % 3 === 0) {
      argv.push("-MD", "-MF", `out/u${i}.d`);
      outputs.push(`out/u${i}.d`);
    }
    units.push({ argv, outputs });
  }
  c.mkdir("out");
  return units;
}

/** Compiles every unit bare and through zccache (same cwd, same args); the differences. */
function compareAll(c: CacheEnv, units: readonly Unit[]): string[] {
  const problems: string[] = [];
  for (const u of units) {
    removeOutputs(c.work, u.outputs);
    const b = observe(bare(u.argv, c.work, c.env), c.work, u.outputs);
    removeOutputs(c.work, u.outputs);
    const z = observe(c.zc(u.argv), c.work, u.outputs);
    const d = diffObserved(b, z);
    if (d !== "") problems.push(`${u.argv.join(" ")}\n${d}`);
  }
  return problems;
}

/** Entries whose outputs include one of ours, keyed by that unit's index. */
function entriesByUnit(c: CacheEnv): Map<number, IndexEntry> {
  const out = new Map<number, IndexEntry>();
  for (const e of readIndex(c.root)) {
    for (const o of outputsOf(e.record)) {
      const m = /\/out\/u(\d+)\.o$/.exec(o.path);
      if (m !== null) out.set(Number(m[1]), e);
    }
  }
  return out;
}

/** Every blob the index references exists and hashes to its name. */
function storeConsistent(c: CacheEnv): string[] {
  const bad: string[] = [];
  for (const e of readIndex(c.root)) {
    for (const o of outputsOf(e.record)) {
      if (!fs.existsSync(blobPath(c.root, o.hash))) bad.push(`entry ${e.id}: ${o.hash} missing`);
      else if (!blobIntact(c.root, o.hash)) bad.push(`entry ${e.id}: ${o.hash} corrupt`);
    }
  }
  return bad;
}

const BLOB_DAMAGE = ["truncate-half", "truncate-0", "flip-byte", "zero-fill", "append", "delete", "swap"] as const;
type BlobDamage = (typeof BLOB_DAMAGE)[number];

function damageBlob(p: string, kind: BlobDamage, rng: Rng, other: string): void {
  const b = fs.readFileSync(p);
  switch (kind) {
    case "truncate-half":
      fs.truncateSync(p, Math.floor(b.length / 2));
      return;
    case "truncate-0":
      fs.truncateSync(p, 0);
      return;
    case "flip-byte": {
      const i = rng.int(b.length);
      b[i] = (b[i] as number) ^ (1 << rng.int(8));
      fs.writeFileSync(p, b);
      return;
    }
    case "zero-fill":
      fs.writeFileSync(p, Buffer.alloc(b.length));
      return;
    case "append":
      fs.appendFileSync(p, Buffer.from([rng.int(256)]));
      return;
    case "delete":
      fs.rmSync(p);
      return;
    case "swap":
      // Another blob's (valid) bytes under this name.
      fs.writeFileSync(p, fs.readFileSync(other));
      return;
  }
}

describe("damaged blobs", () => {
  for (const delivery of ["copy", "hardlink"] as const) {
    test(`${delivery} delivery: every kind of blob damage is detected, counted and repaired`, async () => {
      const rng = new Rng(SEED ^ (delivery === "copy" ? 1 : 2));
      // As root hardlinks fall back to copy: the hardlink path runs as an unprivileged user.
      const c = delivery === "hardlink" ? CacheEnv.unprivileged({ ZCCACHE_DELIVERY: delivery }) : new CacheEnv({ ZCCACHE_DELIVERY: delivery });
      const units = makeProject(c, delivery.toUpperCase());
      expect(compareAll(c, units)).toEqual([]); // misses
      // Let the blobs age past the racy window so the daemon trusts its verification memo,
      // then hit twice: the second round is served from that memo. Damage must still show.
      await sleepMs(2_200);
      expect(compareAll(c, units)).toEqual([]);
      expect(compareAll(c, units)).toEqual([]);
      const before = c.status();
      expect(before.hits).toBe(2 * N);

      const byUnit = entriesByUnit(c);
      expect(byUnit.size).toBe(N);
      const damaged: string[] = [];
      // A flipped bit of a zstd frame can leave its content intact: the decoder ignores the
      // bit, or still decodes the same bytes (about 1 flip in 80 here; the frames carry no
      // checksum of their own). Such a blob still holds what its name says, so serving it is
      // right: a hit, not a corrupt entry. Every other kind of damage must be detected.
      const harmless: string[] = [];
      for (let i = 0; i < N; i++) {
        const outs = outputsOf((byUnit.get(i) as IndexEntry).record);
        // Damage the depfile blob where there is one, half of the time.
        const target = outs.length > 1 && rng.chance(0.5) ? (outs[1] as (typeof outs)[number]) : (outs[0] as (typeof outs)[number]);
        const other = outputsOf((byUnit.get((i + 1) % N) as IndexEntry).record)[0] as (typeof outs)[number];
        const kind = BLOB_DAMAGE[i % BLOB_DAMAGE.length] as BlobDamage;
        damageBlob(blobPath(c.root, target.hash), kind, rng, blobPath(c.root, other.hash));
        damaged.push(`u${i}: ${kind} of its ${target.role} blob`);
        if (kind === "flip-byte" && blobIntact(c.root, target.hash)) harmless.push(`u${i}`);
      }
      // In hardlink mode a delivered object may share the damaged blob's inode: remove them
      // first so the comparison sees only what the next compile writes.
      expect(compareAll(c, units)).toEqual([]);
      const mid = c.status();
      expect(mid.pid).toBe(before.pid);
      expect({ damaged, harmless, corrupt: reason(mid, "corrupt-entry") - reason(before, "corrupt-entry") }).toEqual({
        damaged,
        harmless,
        corrupt: N - harmless.length,
      });
      expect(mid.hits - before.hits).toBe(harmless.length);
      expect(mid.errors - before.errors).toBe(0);

      // Repaired: everything hits again, identical to bare, and the store is consistent.
      expect(compareAll(c, units)).toEqual([]);
      const after = c.status();
      expect(after.hits - mid.hits).toBe(N);
      expect(storeConsistent(c)).toEqual([]);
    });
  }
});

/**
 * Writes the flip into the copy of the row's record that SQLite actually reads (a page may
 * also hold stale copies in its free space); false when no copy could be found (a record
 * that spilled into an overflow page).
 */
function flipLiveRow(c: CacheEnv, file: string, e: IndexEntry, flip: { at: number; to: string }): boolean {
  const original = fs.readFileSync(file);
  const needle = Buffer.from(e.record, "utf8");
  const delta = Buffer.byteLength(e.record.slice(0, flip.at), "utf8");
  for (let off = original.indexOf(needle); off >= 0; off = original.indexOf(needle, off + 1)) {
    const bytes = Buffer.from(original);
    bytes.write(flip.to, off + delta, "latin1");
    fs.writeFileSync(file, bytes);
    const now = readIndex(c.root).find((x) => x.id === e.id);
    if (now !== undefined && now.record !== e.record) return true;
  }
  fs.writeFileSync(file, original);
  return false;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A one-byte change inside the record text of a row; returns what was done, or null. */
function flipInRecord(record: string, kind: string, rng: Rng): { at: number; to: string; what: string } | null {
  const find = (re: RegExp): { index: number; text: string } | null => {
    const m = re.exec(record);
    return m === null ? null : { index: m.index, text: m[0] };
  };
  switch (kind) {
    case "output-path": {
      const m = find(/\/out\/u\d+\.o"/);
      if (m === null) return null;
      const at = m.index + m.text.length - 2; // the "o" of ".o"
      return { at, to: "p", what: "object path .o -> .p" };
    }
    case "stderr": {
      const m = find(/"stderr":"([A-Za-z0-9+/]{8,})/);
      if (m === null) return null;
      const at = m.index + '"stderr":"'.length + 4;
      const cur = record[at] as string;
      const to = BASE64[(BASE64.indexOf(cur) + 1) % 64] as string;
      return { at, to, what: "one base64 character of the stored stderr" };
    }
    case "exit-code": {
      const m = find(/"exitCode":0/);
      if (m === null) return null;
      return { at: m.index + m.text.length - 1, to: "1", what: "exitCode 0 -> 1" };
    }
    case "blob-hash": {
      const m = find(/"hash":"[0-9a-f]{64}"/);
      if (m === null) return null;
      const at = m.index + '"hash":"'.length + rng.int(64);
      const cur = record[at] as string;
      return { at, to: cur === "0" ? "1" : "0", what: "one hex digit of a blob hash" };
    }
    case "size": {
      const m = find(/"size":\d+/);
      if (m === null) return null;
      const at = m.index + m.text.length - 1;
      const cur = record[at] as string;
      return { at, to: cur === "0" ? "1" : "0", what: "last digit of a blob size" };
    }
    case "dep-path": {
      const m = find(/"path":"[^"]*shared\.h"/);
      if (m === null) return null;
      const at = m.index + m.text.length - 3; // the "." of ".h"
      return { at, to: "_", what: "a header path in the dependency list" };
    }
    case "json": {
      const m = find(/"deps":/);
      if (m === null) return null;
      return { at: m.index + 2, to: "x", what: '"deps" key -> "dxps"' };
    }
    default: {
      // Any printable character of the record, replaced by another printable one.
      const at = rng.int(record.length);
      const cur = record.charCodeAt(at);
      let to = cur;
      while (to === cur || to === 34 || to === 92) to = 33 + rng.int(94);
      return { at, to: String.fromCharCode(to), what: `byte ${at} of the record ${JSON.stringify(record[at])} -> ${JSON.stringify(String.fromCharCode(to))}` };
    }
  }
}

describe("damaged index", () => {
  test("a flipped byte inside an index row is detected and never served", () => {
    const rng = new Rng(SEED ^ 3);
    const c = new CacheEnv();
    const units = makeProject(c, "ROWS");
    expect(compareAll(c, units)).toEqual([]); // misses, stored
    expect(compareAll(c, units)).toEqual([]); // hits
    expect(c.zc(["stop"]).code).toBe(0);

    const file = path.join(c.root, "index.sqlite");
    const byUnit = entriesByUnit(c);
    const kinds = ["output-path", "stderr", "exit-code", "blob-hash", "size", "dep-path", "json"];
    const done: string[] = [];
    for (let i = 0; i < N; i++) {
      const e = byUnit.get(i) as IndexEntry;
      const kind = kinds[i] ?? "random";
      const flip = flipInRecord(e.record, kind, rng) ?? flipInRecord(e.record, "random", rng);
      if (flip === null) continue;
      if (flipLiveRow(c, file, e, flip)) done.push(`u${i}: ${flip.what}`);
    }
    // The flips landed in the live rows (SQLite itself does not notice: no checksums).
    const changed = readIndex(c.root).filter((e) => [...byUnit.values()].every((o) => o.record !== e.record)).length;
    expect(changed).toBe(done.length);
    expect(done.length).toBeGreaterThanOrEqual(N - 2);

    // Restart (the first compile starts the daemon) and compile everything.
    const problems = compareAll(c, units);
    expect({ damaged: done, problems }).toEqual({ damaged: done, problems: [] });
    // Nothing was written where a damaged row pointed.
    expect(fs.readdirSync(path.join(c.work, "out")).filter((n) => n.endsWith(".p"))).toEqual([]);
    const st = c.status();
    // Repaired: the next round hits for every unit.
    expect(compareAll(c, units)).toEqual([]);
    expect(c.status().hits - st.hits).toBe(N);
    // Every damaged row was noticed as such, not mistaken for a changed input.
    expect(reason(st, "corrupt-entry") + reason(st, "store-read-failed")).toBe(done.length);
  });

  const fileDamage: [string, (file: string) => void][] = [
    [
      "a garbage header",
      (file) => {
        const fd = fs.openSync(file, "r+");
        fs.writeSync(fd, Buffer.from("this is not an sqlite database, not at all!!"), 0, 44, 0);
        fs.closeSync(fd);
      },
    ],
    ["cut in half", (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
    [
      "random bytes over the header of every page but the first",
      (file) => {
        const rng = new Rng(SEED ^ 4);
        const b = fs.readFileSync(file);
        const pageSize = b.readUInt16BE(16) === 1 ? 65536 : b.readUInt16BE(16);
        for (let off = pageSize; off + 32 <= b.length; off += pageSize) rng.bytes(32).copy(b, off);
        fs.writeFileSync(file, b);
      },
    ],
  ];
  for (const [what, damage] of fileDamage) {
    test(`an index file with ${what}: compiles stay correct, the damage is counted, the store starts over`, () => {
      const c = new CacheEnv();
      const units = makeProject(c, "FILE");
      expect(compareAll(c, units)).toEqual([]);
      expect(c.zc(["stop"]).code).toBe(0);
      damage(path.join(c.root, "index.sqlite"));

      expect(compareAll(c, units)).toEqual([]);
      const st = c.status();
      expect(st.store).toBe("ok");
      // Detected: the damaged file was moved aside (or its rows dropped), and said so.
      const aside = fs.readdirSync(c.root).filter((n) => n.startsWith("index.sqlite.corrupt-"));
      const log = fs.readFileSync(path.join(c.root, "logs", "daemon.log"), "utf8");
      expect(aside.length > 0 || reason(st, "corrupt-entry") > 0).toBe(true);
      if (aside.length > 0) expect(log).toContain("index was unreadable");
      // The store works again: the next round hits.
      expect(compareAll(c, units)).toEqual([]);
      expect(c.status().hits - st.hits).toBe(N);
      expect(storeConsistent(c)).toEqual([]);
      // Counted, where `status` can show it.
      expect(st.errors + reason(st, "corrupt-entry") + reason(st, "store-read-failed")).toBeGreaterThan(0);
    });
  }

  test("the index deleted under a running daemon, and after it stops", () => {
    const c = new CacheEnv();
    const units = makeProject(c, "GONE");
    expect(compareAll(c, units)).toEqual([]);
    const pid = c.status().pid;
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(path.join(c.root, `index.sqlite${suffix}`), { force: true });
    // The running daemon keeps working on what it has open.
    expect(compareAll(c, units)).toEqual([]);
    expect(c.status().pid).toBe(pid);
    expect(c.zc(["stop"]).code).toBe(0);
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(path.join(c.root, `index.sqlite${suffix}`), { force: true });
    // A new daemon, an empty index, blobs still on disk: misses, then hits, all correct.
    expect(compareAll(c, units)).toEqual([]);
    const st = c.status();
    expect(st.misses).toBeGreaterThanOrEqual(N);
    expect(compareAll(c, units)).toEqual([]);
    expect(c.status().hits - st.hits).toBe(N);
    expect(storeConsistent(c)).toEqual([]);
  });
});
