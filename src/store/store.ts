// The cache store contract: entries found by manifest key, outputs as content-addressed blobs.
// Lookup and delivery are separate: entries() finds candidates, materialize() writes files.
import type { ContentHash } from "../platform/hash.ts";
import type { Result } from "../platform/result.ts";

/** An input whose content the entry depends on. */
export interface DepRecord {
  readonly path: string;
  readonly hash: ContentHash;
}

export interface OutputRecord {
  /** "object", "depfile", "dwo", … */
  readonly role: string;
  /** Absolute path the output is delivered to. */
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

export interface StoredEntry extends EntryRecord {
  readonly id: number;
}

/** An output file produced by a miss, to be imported into the store. */
export interface NewOutput {
  readonly role: string;
  readonly path: string;
}

export type DeliveryMode = "copy" | "hardlink";

export type MaterializeFailure = "corrupt" | "missing" | "io";

export interface StoreTotals {
  readonly entries: number;
  readonly bytes: number;
}

export interface Store {
  entries(manifestKey: string): readonly StoredEntry[];
  put(
    manifestKey: string,
    record: Omit<EntryRecord, "outputs">,
    outputs: readonly NewOutput[],
  ): Result<StoredEntry, string>;
  materialize(output: OutputRecord, mode: DeliveryMode): Result<void, MaterializeFailure>;
  touch(id: number): void;
  remove(id: number): void;
  totals(): StoreTotals;
  /** Drops least recently used entries until the store holds at most `maxBytes`; returns how many. */
  evictTo(maxBytes: number): number;
  clear(): void;
  loadCounters(): [string, number][];
  saveCounters(values: ReadonlyMap<string, number>): void;
  flush(): void;
  close(): void;
}
