// The cache store contract, shared by every tier: entries found by key, outputs as
// content-addressed blobs. Lookup and delivery are separate: lookup() finds candidates,
// materialize() writes one output where the caller says. An entry is named by its key and
// the digest of its record, never by an id of one implementation, so a remote tier can hold
// the same entries. Eviction, totals and counters are the local tier's (LocalTier).
import type { ContentHash } from "../platform/hash.ts";
import type { Result } from "../platform/result.ts";

/** An input whose content the entry depends on. */
export interface DepRecord {
  /** Absolute, or relative to the cwd or a base dir: read it through a resolver (serve/validate.ts). */
  readonly path: string;
  readonly hash: ContentHash;
}

export interface OutputRecord {
  /** "object", "depfile", "dwo", … — what delivery places it by. */
  readonly role: string;
  /** Where the miss that stored it wrote it; delivery takes its destination from the job, not from here. */
  readonly path: string;
  readonly hash: ContentHash;
  readonly size: number;
}

export interface EntryRecord {
  readonly deps: readonly DepRecord[];
  /** Per directory, names that did not exist on the miss and must still not (shadowing headers). */
  readonly absent: readonly (readonly [dir: string, names: readonly string[]])[];
  readonly outputs: readonly OutputRecord[];
  readonly exitCode: number;
  readonly stdout: string; // base64
  readonly stderr: string; // base64
  readonly language: string;
  /** How long the compile that produced the entry took (for "time saved"). */
  readonly compileMs?: number;
}

/** An entry as a store returns it: the record plus its digest (sha256 of the record's JSON). */
export interface StoredEntry extends EntryRecord {
  readonly digest: string;
}

/** An output file produced by a miss, to be imported into the store. */
export interface NewOutput {
  readonly role: string;
  readonly path: string;
  /** Its bytes, read when the job ended (the file may have changed since); else read from `path`. */
  readonly bytes?: Uint8Array;
}

export type DeliveryMode = "copy" | "hardlink";

/** Why an output could not be written: its blob is damaged, gone, or the write failed. */
export type MaterializeFailure = "corrupt" | "missing" | "io";

export interface StoreFailure {
  readonly reason: "write-failed";
  readonly detail: string;
}

export interface StoreTotals {
  readonly entries: number;
  /** On disk (compressed blobs count compressed). */
  readonly bytes: number;
  /** What the blobs hold uncompressed. */
  readonly uncompressedBytes: number;
  /** Plain copies of big compressed blobs delivered again (outside `bytes` and the size limit). */
  readonly plainCopyBytes: number;
}

/**
 * Tiers asked when none of a store's own entries is valid (remote storage). `pick` is the
 * serve loop's validation; the entry found is imported, so the store delivers it as its own.
 */
export interface FallbackTiers {
  find(
    key: string,
    pick: (entries: readonly StoredEntry[]) => StoredEntry | null,
  ): Promise<{ readonly entry: StoredEntry; readonly tier: string } | null>;
}

export interface Store {
  /** Remote tiers behind this store, when the build has any. */
  readonly fallback?: FallbackTiers;
  /** The entries under `key`, most recently used (or stored) first; damaged ones are dropped, never returned. */
  lookup(key: string): Promise<readonly StoredEntry[]>;
  /** Imports the outputs' bytes, then makes the entry visible under `key`. */
  put(
    key: string,
    record: Omit<EntryRecord, "outputs">,
    outputs: readonly NewOutput[],
  ): Promise<Result<StoredEntry, StoreFailure>>;
  /** Writes the output's blob to `dest` (atomically), after checking it against its content hash. */
  materialize(output: OutputRecord, dest: string, mode: DeliveryMode): Promise<Result<void, MaterializeFailure>>;
  /** Marks an entry used (for least-recently-used eviction); may be recorded lazily. */
  touch(key: string, digest: string): void;
  remove(key: string, digest: string): Promise<void>;
  /** Keeps the entry from eviction until the returned function is called (during a delivery). */
  hold(entry: StoredEntry): () => void;
}

/** The tier on this machine: it alone has a size to keep, counters to hold, files to flush. */
export interface LocalTier extends Store {
  /** Imports an entry found on another tier, with its blobs (checked against their hashes). */
  adopt(key: string, entry: StoredEntry, blobs: ReadonlyMap<string, Uint8Array>): Result<StoredEntry, StoreFailure>;
  /** A blob's bytes, checked against its size and hash; null when gone or damaged. */
  readBlob(hash: ContentHash, size: number): Uint8Array | null;
  totals(): StoreTotals;
  /** Drops least recently used entries until the store holds at most `maxBytes`; returns how many. */
  evictTo(maxBytes: number): number;
  /** Drops entries not used since `cutoffMs`; returns how many. */
  evictUnusedSince(cutoffMs: number): number;
  clear(): void;
  loadCounters(): [string, number][];
  saveCounters(values: ReadonlyMap<string, number>): void;
  flush(): void;
  close(): void;
}
