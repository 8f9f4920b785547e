// Memoised content hashes keyed by stat snapshot. A snapshot is trusted only when the file
// was already old when we hashed it; a file written within the racy window is re-hashed,
// because a same-size rewrite inside one timestamp tick leaves stat unchanged.
import * as fs from "node:fs";
import { type ContentHash, sha256Hex } from "../platform/hash.ts";
import type { StatSnapshot } from "../platform/fsx.ts";
import { stampStillTrusted } from "../platform/stat-trust.ts";
import { regularFileStamp, snapshotOfStamp, type StatStamp } from "../platform/stat-snapshot.ts";
import { hasAbsoluteIncludes, hasOpaqueInputs, usesTimeMacros } from "../compilers/cc/time-macros.ts";
import { hasIncludeSpellings, type IncludeSpellings } from "../compilers/cc/pch.ts";
import { FileFingerprints } from "./fingerprint-memo.ts";

const MAX_ENTRIES = 500_000;
/** From this size a file's hash is kept across restarts (binaries a link records). */
const BIG_FILE_BYTES = 1024 * 1024;

export interface FileFacts {
  readonly hash: ContentHash;
  readonly timeMacros: boolean;
  /**
   * Something whose effect a content hash of the depfile's inputs cannot capture: inline
   * assembly `.incbin` (reads a file no depfile names), `#pragma GCC dependency` (warns
   * by comparing mtimes).
   */
  readonly opaqueInputs: boolean;
  /** `#include` of an absolute or macro-built name: see hasAbsoluteIncludes(). */
  readonly absoluteIncludes: boolean;
  /** The names the file tests with `__has_include`, if any. */
  readonly hasIncludes: IncludeSpellings | null;
  readonly snapshot: StatSnapshot;
}

interface Memo extends FileFacts {
  /** The snapshot as plain numbers: what a hit compares (see StatStamp). */
  readonly stamp: StatStamp;
  readonly hashedAtMs: number;
}

export class FileHashes {
  private readonly memo = new Map<string, Memo>();
  /** Hashes computed without the scans (hash()), by path. */
  private readonly hashes = new Map<string, { stamp: StatStamp; hashedAtMs: number; hash: ContentHash }>();
  // Kept across restarts, not counted as toolchain fingerprints (a build's own big outputs are
  // hashed again whenever they were just written).
  private readonly big = new FileFingerprints("file", false);
  hashedFiles = 0;

  /** Current facts for a regular file, or null when it is missing or not a file. */
  facts(p: string): FileFacts | null {
    const st = regularFileStamp(p);
    if (st === null) {
      this.memo.delete(p);
      return null;
    }
    const known = this.memo.get(p);
    if (known !== undefined && stampStillTrusted(known.stamp, known.hashedAtMs, st)) return known;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(p);
    } catch {
      return null;
    }
    this.hashedFiles++;
    const hashedAtMs = Date.now();
    const memo: Memo = {
      hash: sha256Hex(bytes),
      timeMacros: usesTimeMacros(bytes),
      opaqueInputs: hasOpaqueInputs(bytes),
      absoluteIncludes: hasAbsoluteIncludes(bytes),
      hasIncludes: hasIncludeSpellings(bytes),
      snapshot: snapshotOfStamp(st),
      stamp: st,
      hashedAtMs,
    };
    if (this.memo.size >= MAX_ENTRIES) this.memo.clear();
    this.memo.set(p, memo);
    return memo;
  }

  /**
   * The content hash alone (what validating an entry needs): no scans for macros or include
   * spellings, which cost ~0.8 s on a 30 MB binary such as lto1 that a link records. Files of
   * a megabyte or more (linkers, plugins, libraries) go through the fingerprints a restarted
   * daemon keeps (fingerprint-memo.ts), so it does not read them again.
   */
  hash(p: string): ContentHash | null {
    if (p.endsWith("/")) return listingHash(p);
    const st = regularFileStamp(p);
    if (st === null) {
      this.memo.delete(p);
      this.hashes.delete(p);
      return null;
    }
    const known = this.memo.get(p);
    if (known !== undefined && stampStillTrusted(known.stamp, known.hashedAtMs, st)) return known.hash;
    const h = this.hashes.get(p);
    if (h !== undefined && stampStillTrusted(h.stamp, h.hashedAtMs, st)) return h.hash;
    const hashedAtMs = Date.now();
    let hash: ContentHash;
    try {
      const read = (): ContentHash => {
        this.hashedFiles++;
        return sha256Hex(fs.readFileSync(p));
      };
      hash = st.sizeHi > 0 || st.sizeLo >= BIG_FILE_BYTES ? (this.big.hash(p, fs.statSync(p, { bigint: true }), read) as ContentHash) : read();
    } catch {
      return null;
    }
    if (this.hashes.size >= MAX_ENTRIES) this.hashes.clear();
    this.hashes.set(p, { stamp: st, hashedAtMs, hash });
    return hash;
  }

  clear(): void {
    this.memo.clear();
    this.hashes.clear();
  }
}

/**
 * A dependency recorded as "dir/" stands for the names in a directory (a directory of
 * precompiled headers, where a new file may be picked instead): never memoised.
 */
export function listingHash(dir: string): ContentHash | null {
  try {
    const names = fs.readdirSync(dir).sort();
    return sha256Hex(names.join("\u0000"));
  } catch {
    return null;
  }
}
