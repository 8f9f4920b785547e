// Toolchain fingerprints that outlive the daemon: the content hashes of compiler binaries
// (gcc, cc1, as, clang), of a Rust toolchain's libraries, rustc's own description, and an
// emscripten installation's fingerprint are kept in the index (LocalStore.fingerprints) and
// re-validated by stat with the usual racy-window rule, so a restarted daemon does not read
// hundreds of megabytes again before its first hit. The in-memory memos in front of it stay
// as they are; this is the layer they fall back to.
import * as fs from "node:fs";
import { type StatSnapshot, snapshotOf } from "../platform/fsx.ts";
import { stillTrusted } from "../platform/stat-trust.ts";

/** A string-to-string table that survives restarts (the index's `fingerprints` table). */
export interface PersistentMemo {
  get(name: string): string | null;
  set(name: string, value: string): void;
}

let persistent: PersistentMemo | null = null;
let computed = 0;

/** Set by the daemon when its store opens (and to null when it closes). */
export function usePersistentMemo(memo: PersistentMemo | null): void {
  persistent = memo;
}

/**
 * How many toolchain fingerprints were computed (files read and hashed, or a toolchain
 * asked to describe itself) since the daemon started: `status` shows it, so a test can see
 * that a restarted daemon computed none again.
 */
export function fingerprintsComputed(): number {
  return computed;
}

export function countComputed(): void {
  computed++;
}

export function remembered(name: string): string | null {
  try {
    return persistent?.get(name) ?? null;
  } catch {
    return null;
  }
}

export function remember(name: string, value: string): void {
  try {
    persistent?.set(name, value);
  } catch {
    // A fingerprint not kept is only computed again.
  }
}

/** Stat snapshots as JSON (bigints as decimal strings) and back. */
export function snapshotToJson(s: StatSnapshot | null): unknown {
  return s === null ? null : [String(s.size), String(s.mtimeNs), String(s.ctimeNs), String(s.ino)];
}

export function snapshotFromJson(v: unknown): StatSnapshot | null | undefined {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === "string" && /^\d+$/.test(x))) return undefined;
  const [size, mtimeNs, ctimeNs, ino] = (v as string[]).map((x) => BigInt(x)) as [bigint, bigint, bigint, bigint];
  return { size, mtimeNs, ctimeNs, ino };
}

/**
 * The content hash of a (large) toolchain file: from memory, else from the persistent memo
 * when the file's stat is unchanged and older than the racy window at hashing time, else
 * computed by `hash` (and remembered both ways).
 */
export class FileFingerprints {
  private readonly memo = new Map<string, { snapshot: StatSnapshot; atNs: bigint; hash: string }>();

  /** `counted`: whether a computed hash counts in fingerprintsComputed() (toolchain files do). */
  constructor(
    private readonly kind: string,
    private readonly counted = true,
  ) {}

  hash(p: string, st: fs.BigIntStats, compute: () => string): string {
    const now = snapshotOf(st);
    const mem = this.memo.get(p);
    if (mem !== undefined && stillTrusted(mem.snapshot, mem.atNs, now)) return mem.hash;
    const name = `${this.kind}:${p}`;
    const stored = parseStored(remembered(name));
    // The device too: two filesystems can serve one path with equal stats (images with fixed times).
    if (stored !== null && stored.dev === String(st.dev) && stillTrusted(stored.snapshot, stored.atNs, now)) {
      this.memo.set(p, { snapshot: stored.snapshot, atNs: stored.atNs, hash: stored.hash });
      return stored.hash;
    }
    const atNs = BigInt(Date.now()) * 1_000_000n;
    const hash = compute();
    if (this.counted) computed++;
    const fresh = { snapshot: now, atNs, hash };
    this.memo.set(p, fresh);
    remember(name, JSON.stringify({ s: snapshotToJson(now), d: String(st.dev), at: String(atNs), h: hash }));
    return hash;
  }
}

function parseStored(text: string | null): { snapshot: StatSnapshot; dev: string; atNs: bigint; hash: string } | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { s?: unknown; d?: unknown; at?: unknown; h?: unknown };
    const snapshot = snapshotFromJson(v.s);
    if (snapshot === null || snapshot === undefined || typeof v.d !== "string" || typeof v.at !== "string" || !/^\d+$/.test(v.at) || typeof v.h !== "string") {
      return null;
    }
    return { snapshot, dev: v.d, atNs: BigInt(v.at), hash: v.h };
  } catch {
    return null;
  }
}
