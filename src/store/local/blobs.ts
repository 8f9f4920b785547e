// Content-addressed blob files under <root>/blobs/<2 hex>/<hash>, written atomically, read-only.
// With compression on, a blob that zstd makes smaller is stored as <hash>.zst instead; its
// name is still the SHA-256 of the uncompressed bytes, which every read checks.
// A big compressed blob delivered a second time by this process gets a plain twin in a
// scratch directory (<root>/tmp/hot, emptied when a daemon starts), within a budget, least
// recently delivered first out: its next deliveries are a kernel copy, not a decompression
// (an rlib, a proc-macro library or a build script costs 3-30 ms to inflate here, and a
// clean cargo build delivers them all again). A twin is checked as a plain blob is.
import * as fs from "node:fs";
import * as path from "node:path";
import { type ContentHash, sha256Hex } from "../../platform/hash.ts";
import {
  mkdirp,
  moveIntoPlace,
  removeQuietly,
  siblingTemp,
  type StatSnapshot,
  snapshotOf,
} from "../../platform/fsx.ts";
import { nowNs } from "../../platform/time.ts";
import { stillTrusted } from "../../platform/stat-trust.ts";

import { err, errorCode, ok, type Result } from "../../platform/result.ts";
import type { DeliveryMode, MaterializeFailure } from "../store.ts";
import type { RootModes } from "./root-modes.ts";

/** A copied output gets the mode a compiler's own output would get, not the blob's. */
const OUTPUT_MODE = 0o666 & ~process.umask();

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The content size a zstd frame declares in its header, or null when it declares none or is
 * not a frame. Read before decompressing, so a damaged blob cannot make us inflate gigabytes:
 * our frames always carry it (one-shot compression records it).
 */
export function zstdDeclaredSize(b: Uint8Array): number | null {
  if (b.length < 6 || new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true) !== ZSTD_MAGIC) return null;
  const fhd = b[4] as number;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  const at = 5 + (singleSegment ? 0 : 1) + ([0, 1, 2, 4][dictFlag] as number);
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
  if (fcsBytes === 0 || at + fcsBytes > b.length) return null;
  let v = 0;
  for (let k = fcsBytes - 1; k >= 0; k--) v = v * 256 + (b[at + k] as number);
  return fcsBytes === 2 ? v + 256 : v;
}

/** Decompresses a blob's frame when it declares exactly `size` bytes; throws otherwise. */
function inflate(packed: Uint8Array, size: number): Uint8Array {
  if (zstdDeclaredSize(packed) !== size) throw new Error("frame does not declare the blob's size");
  const out = Bun.zstdDecompressSync(packed);
  if (out.length !== size) throw new Error("frame holds another size");
  return out;
}

/** The smallest blob that gets a plain twin: below it, inflating costs about as much as copying. */
const TWIN_MIN_BYTES = 1024 * 1024;
/** Twins' share of the cache's size limit, and their most. */
const TWIN_BUDGET_SHARE = 10;
const TWIN_BUDGET_MAX_BYTES = 1024 * 1024 * 1024;
/** How many once-delivered blobs are remembered before the set starts over. */
const DELIVERED_ONCE_MAX = 100_000;

/** The plain-twin budget for a cache of `cacheSizeBytes`. */
export function twinBudget(cacheSizeBytes: number): number {
  return Math.min(TWIN_BUDGET_MAX_BYTES, Math.floor(cacheSizeBytes / TWIN_BUDGET_SHARE));
}

export class BlobDir {
  /** Blobs (and twins, as "hot:<hash>") whose content was verified, with their stat at that moment. */
  private readonly verified = new Map<string, { snapshot: StatSnapshot; verifiedAtNs: bigint }>();
  /** zstd level for new blobs; 0 stores them as they are. */
  compressionLevel = 0;
  private twinBudget = 0;
  /** This process's twins by hash, with their sizes, least recently delivered first. */
  private readonly twins = new Map<ContentHash, number>();
  private twinBytes = 0;
  /** Big compressed blobs delivered once by this process. */
  private readonly deliveredOnce = new Set<ContentHash>();

  constructor(
    readonly dir: string,
    private readonly modes: RootModes,
    /** Where twins go; null: none are made. */
    private readonly twinDir: string | null = null,
  ) {
    mkdirp(dir, modes.dir);
  }

  /** What the twins take. */
  get twinBytesTotal(): number {
    return this.twinBytes;
  }

  /** The twins there are now, by hash (for tests). */
  twinHashes(): ContentHash[] {
    return [...this.twins.keys()];
  }

  /** Bytes the plain twins may take; 0: none are made. A lower budget drops twins at once. */
  setTwinBudget(bytes: number): void {
    this.twinBudget = bytes;
    this.trimTwins();
  }

  /** Drops the least recently delivered twins until they fit their budget. */
  private trimTwins(): void {
    for (const [old] of this.twins) {
      if (this.twinBytes <= this.twinBudget) break;
      this.dropTwin(old);
    }
  }

  /** Removes every twin (the store is closing: they are worth nothing to the next daemon). */
  dropTwins(): void {
    for (const hash of [...this.twins.keys()]) this.dropTwin(hash);
  }

  pathOf(hash: ContentHash): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  /** Where the compressed form of a blob lives. */
  compressedPathOf(hash: ContentHash): string {
    return `${this.pathOf(hash)}.zst`;
  }

  /**
   * Stores bytes under their hash, compressed when that makes them smaller; returns the hash
   * and the size on disk. Existing blobs (in either form) are kept as they are.
   */
  write(bytes: Uint8Array): { hash: ContentHash; stored: number } {
    const hash = sha256Hex(bytes);
    const raw = this.pathOf(hash);
    const existing = fs.statSync(raw, { throwIfNoEntry: false }) ?? fs.statSync(this.compressedPathOf(hash), { throwIfNoEntry: false });
    if (existing !== undefined) return { hash, stored: existing.size };
    let p = raw;
    let data = bytes;
    if (this.compressionLevel > 0 && bytes.length > 0) {
      const z = Bun.zstdCompressSync(bytes, { level: this.compressionLevel });
      if (z.length < bytes.length) {
        p = this.compressedPathOf(hash);
        data = z;
      }
    }
    mkdirp(path.dirname(p), this.modes.dir);
    const tmp = siblingTemp(p);
    try {
      fs.writeFileSync(tmp, data, { mode: this.modes.blob });
      fs.renameSync(tmp, p);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    return { hash, stored: data.length };
  }

  remove(hash: ContentHash): void {
    this.verified.delete(hash);
    removeQuietly(this.pathOf(hash));
    removeQuietly(this.compressedPathOf(hash));
    this.dropTwin(hash);
  }

  private twinPathOf(hash: ContentHash): string {
    return path.join(this.twinDir ?? "", hash);
  }

  private dropTwin(hash: ContentHash): void {
    const size = this.twins.get(hash);
    if (size === undefined) return;
    this.twins.delete(hash);
    this.twinBytes -= size;
    this.verified.delete(`hot:${hash}`);
    removeQuietly(this.twinPathOf(hash));
  }

  /**
   * After a compressed blob was inflated into `delivered` (ours, not yet in place): on its
   * second delivery by this process, a big one gets a plain twin, copied from it. Best effort.
   */
  private considerTwin(hash: ContentHash, size: number, delivered: string): void {
    if (this.twinDir === null || size < TWIN_MIN_BYTES || size > this.twinBudget) return;
    if (!this.deliveredOnce.has(hash)) {
      if (this.deliveredOnce.size >= DELIVERED_ONCE_MAX) this.deliveredOnce.clear();
      this.deliveredOnce.add(hash);
      return;
    }
    const twin = this.twinPathOf(hash);
    const tmp = siblingTemp(twin);
    try {
      mkdirp(this.twinDir, this.modes.dir);
      fs.copyFileSync(delivered, tmp);
      fs.chmodSync(tmp, this.modes.blob);
      fs.renameSync(tmp, twin);
    } catch {
      removeQuietly(tmp);
      return;
    }
    this.deliveredOnce.delete(hash);
    this.twins.set(hash, size);
    this.twinBytes += size;
    this.trimTwins();
  }

  /**
   * Delivers a blob from its twin into `tmp`: true when done; false when there is none (or it
   * was damaged, and is dropped), and the compressed blob is to be used.
   */
  private fromTwin(hash: ContentHash, size: number, tmp: string): boolean {
    if (!this.twins.has(hash)) return false;
    const twin = this.twinPathOf(hash);
    try {
      if (!this.copyChecked(twin, fs.statSync(twin, { bigint: true }), `hot:${hash}`, hash, size, tmp)) {
        this.dropTwin(hash);
        return false;
      }
    } catch {
      removeQuietly(tmp);
      this.dropTwin(hash);
      return false;
    }
    // Least recently delivered first out.
    this.twins.delete(hash);
    this.twins.set(hash, size);
    return true;
  }

  /** The blob's bytes (decompressed), checked against its size and hash; null when gone or damaged. */
  read(hash: ContentHash, size: number): Uint8Array | null {
    try {
      const raw = fs.readFileSync(this.pathOf(hash), { flag: "r" });
      return raw.length === size && sha256Hex(raw) === hash ? raw : null;
    } catch (e) {
      if (errorCode(e) !== "ENOENT") return null;
    }
    try {
      const bytes = inflate(fs.readFileSync(this.compressedPathOf(hash)), size);
      return sha256Hex(bytes) === hash ? bytes : null;
    } catch {
      return null;
    }
  }

  /**
   * A compressed blob, decompressed and checked (by hash unless its stat is unchanged since
   * the last check), written to `tmp` as a copy: hardlinks need the plain bytes, so a
   * compressed entry is always delivered by copy.
   */
  private materializeCompressed(hash: ContentHash, size: number, tmp: string): Result<void, MaterializeFailure> | null {
    const src = this.compressedPathOf(hash);
    const st = fs.statSync(src, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return null;
    const known = this.verified.get(hash);
    const trusted = known !== undefined && stillTrusted(known.snapshot, known.verifiedAtNs, st);
    let packed: Buffer;
    try {
      packed = fs.readFileSync(src);
    } catch (e) {
      return err(errorCode(e) === "ENOENT" ? "missing" : "io");
    }
    let bytes: Uint8Array;
    try {
      bytes = inflate(packed, size);
    } catch {
      this.remove(hash);
      return err("corrupt");
    }
    if (bytes.length !== size || (!trusted && sha256Hex(bytes) !== hash)) {
      this.remove(hash);
      return err("corrupt");
    }
    if (!trusted) this.verified.set(hash, { snapshot: snapshotOf(st), verifiedAtNs: nowNs() });
    fs.writeFileSync(tmp, bytes, { mode: OUTPUT_MODE });
    return ok(undefined);
  }

  /**
   * Writes the blob to `target` through a temp file and a rename, after checking that it
   * still has the content its name says: by hash, or by an unchanged stat since the last
   * hash (blobs are immutable; a racy-new one is hashed again). A corrupt blob is deleted.
   */
  materialize(hash: ContentHash, size: number, target: string, mode: DeliveryMode): Result<void, MaterializeFailure> {
    const src = this.pathOf(hash);
    const tmp = siblingTemp(target);
    try {
      const st = fs.statSync(src, { bigint: true, throwIfNoEntry: false });
      if (st === undefined) {
        if (this.fromTwin(hash, size, tmp)) {
          moveIntoPlace(tmp, target);
          return ok(undefined);
        }
        const z = this.materializeCompressed(hash, size, tmp);
        if (z === null) return err("missing");
        if (!z.ok) {
          removeQuietly(tmp);
          return z;
        }
        this.considerTwin(hash, size, tmp);
        moveIntoPlace(tmp, target);
        return ok(undefined);
      }
      if (mode === "hardlink") {
        const known = this.verified.get(hash);
        const trusted = known !== undefined && stillTrusted(known.snapshot, known.verifiedAtNs, st);
        if (!trusted && !this.verify(hash, size, src, st)) return err("corrupt");
        fs.linkSync(src, tmp);
        // A fresh mtime keeps make's freshness checks right; it is shared by every link.
        const now = new Date();
        fs.utimesSync(tmp, now, now);
        this.remember(hash, src);
      } else if (!this.copyChecked(src, st, hash, hash, size, tmp)) {
        this.remove(hash);
        return err("corrupt");
      }
      moveIntoPlace(tmp, target);
      return ok(undefined);
    } catch (e) {
      removeQuietly(tmp);
      return err(errorCode(e) === "ENOENT" && !fs.existsSync(src) && !fs.existsSync(this.compressedPathOf(hash)) ? "missing" : "io");
    }
  }

  /**
   * Copies `src`, a plain file that should hold the blob `hash`, to `tmp`: a kernel copy when
   * its stat is trusted since it was last hashed (remembered under `memo`), else read, hashed
   * and written. False when it does not hold the blob.
   */
  private copyChecked(src: string, st: fs.BigIntStats, memo: string, hash: ContentHash, size: number, tmp: string): boolean {
    const known = this.verified.get(memo);
    if (known !== undefined && stillTrusted(known.snapshot, known.verifiedAtNs, st)) {
      fs.copyFileSync(src, tmp);
      fs.chmodSync(tmp, OUTPUT_MODE);
      return true;
    }
    const bytes = fs.readFileSync(src);
    if (bytes.length !== size || sha256Hex(bytes) !== hash) return false;
    this.verified.set(memo, { snapshot: snapshotOf(st), verifiedAtNs: nowNs() });
    fs.writeFileSync(tmp, bytes, { mode: OUTPUT_MODE });
    return true;
  }

  private verify(hash: ContentHash, size: number, src: string, st: fs.BigIntStats): boolean {
    const bytes = fs.readFileSync(src);
    if (bytes.length !== size || sha256Hex(bytes) !== hash) {
      this.remove(hash);
      return false;
    }
    this.verified.set(hash, { snapshot: snapshotOf(st), verifiedAtNs: nowNs() });
    return true;
  }

  /** After our own utimes on a verified blob: its content is unchanged, its stat is not. */
  private remember(hash: ContentHash, src: string): void {
    const st = fs.statSync(src, { bigint: true });
    this.verified.set(hash, { snapshot: snapshotOf(st), verifiedAtNs: nowNs() });
  }

  /** Deletes every blob file; the index is cleared by the caller. */
  clear(): void {
    this.dropTwins();
    this.deliveredOnce.clear();
    this.verified.clear();
    for (const shard of safeReaddir(this.dir)) {
      fs.rmSync(path.join(this.dir, shard), { recursive: true, force: true });
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
