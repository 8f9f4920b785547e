// The local tier: SQLite index plus blob directory under the cache root.
import * as fs from "node:fs";
import * as path from "node:path";
import { type ContentHash, isContentHash, sha256Hex } from "../../platform/hash.ts";
import { err, errorMessage, ok, type Result } from "../../platform/result.ts";
import type {
  DeliveryMode,
  EntryRecord,
  LocalTier,
  MaterializeFailure,
  NewOutput,
  OutputRecord,
  StoredEntry,
  StoreFailure,
  StoreTotals,
} from "../store.ts";
import { BlobDir } from "./blobs.ts";
import { IndexDb } from "./index-db.ts";
import { prepareRoot, type RootModes } from "./root-modes.ts";

/** Parsed entries kept in memory, by manifest key, most recently used last. */
const MANIFEST_CACHE_LIMIT = 4096;

/** A record's digest: the sha256 of its JSON, which is what names an entry under its key. */
export function recordDigest(json: string): string {
  return sha256Hex(json);
}

/**
 * Rows are stored as "<sha256 of json>:<json>": a byte flipped on disk inside a row would
 * otherwise still parse and could replay the wrong stdout, exit code or output path. The
 * checksum doubles as the entry's digest.
 */
export function sealRecord(json: string): string {
  return `${recordDigest(json)}:${json}`;
}

/** The digest and JSON of a sealed row, or null when the checksum does not match. */
function unsealRecord(text: string): { digest: string; json: string } | null {
  const colon = text.indexOf(":");
  if (colon !== 64) return null;
  const json = text.slice(65);
  const digest = text.slice(0, 64);
  return recordDigest(json) === digest ? { digest, json } : null;
}

/**
 * A sealed row ("<digest>:<json>") as an entry, or null when its checksum or shape is wrong.
 * Also what a remote tier's manifests are read with: the same checks for every tier.
 */
export function parseRecord(text: string): StoredEntry | null {
  const sealed = unsealRecord(text);
  if (sealed === null) return null;
  try {
    const r = JSON.parse(sealed.json) as EntryRecord;
    if (!Array.isArray(r.deps) || !Array.isArray(r.outputs) || !Array.isArray(r.absent)) return null;
    if (typeof r.exitCode !== "number" || typeof r.stdout !== "string" || typeof r.stderr !== "string") return null;
    if (!r.outputs.every((o) => isContentHash(o.hash) && typeof o.path === "string")) return null;
    if (!r.deps.every((d) => isContentHash(d.hash) && typeof d.path === "string")) return null;
    if (!r.absent.every((g) => Array.isArray(g) && typeof g[0] === "string" && Array.isArray(g[1]))) return null;
    return { ...r, digest: sealed.digest };
  } catch {
    return null;
  }
}

function blobsOfRecord(text: string): string[] {
  try {
    // Even a damaged row names its blobs: release them (a corrupt name matches nothing).
    const r = JSON.parse(text.slice(text.indexOf(":") + 1)) as EntryRecord;
    return Array.isArray(r.outputs) ? r.outputs.map((o) => o.hash) : [];
  } catch {
    return [];
  }
}

/** The parsed entries of one key with their row ids (ids never leave this file). */
interface Manifest {
  readonly entries: StoredEntry[];
  readonly ids: number[];
}

export class LocalStore implements LocalTier {
  readonly blobs: BlobDir;
  private readonly index: IndexDb;
  private readonly cache = new Map<string, Manifest>();
  /** Entries being delivered from, by digest, with how many deliveries hold each. */
  private readonly held = new Map<string, number>();
  /** Uses not yet written to the index, by key and digest. */
  private readonly pendingTouches = new Map<string, { key: string; digest: string; ms: number }>();
  readonly recreatedIndex: boolean;
  /** What everything the daemon creates under this root must be created with. */
  readonly modes: RootModes;
  /** Quarantined entries as "key\u0000digest", read once at open: asked on every lookup. */
  private readonly barred = new Set<string>();

  /** `onCorrupt` hears of every damaged row found (and dropped), so it can be counted. */
  constructor(
    readonly root: string,
    private readonly onCorrupt: (detail: string) => void = () => {},
  ) {
    this.modes = prepareRoot(root);
    // Twins live in the daemon's scratch directory, emptied when a daemon opens the store.
    this.blobs = new BlobDir(path.join(root, "blobs"), this.modes, path.join(root, "tmp", "hot"));
    const opened = IndexDb.open(path.join(root, "index.sqlite"), this.modes.file);
    this.index = opened.db;
    this.recreatedIndex = opened.recreated;
    for (const q of this.index.quarantined()) this.barred.add(`${q.key}\u0000${q.digest}`);
  }

  // Async only by contract: everything here is synchronous, and a hit on a memoised key
  // touches no file at all.
  async lookup(key: string): Promise<readonly StoredEntry[]> {
    return this.manifest(key).entries;
  }

  private manifest(key: string): Manifest {
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const m: Manifest = { entries: [], ids: [] };
    for (const row of this.index.byManifest(key)) {
      const e = parseRecord(row.record);
      if (e === null) {
        this.onCorrupt(`index row ${row.id} failed its checksum or shape check; dropped`);
        this.dropRow(row.id);
      } else {
        m.entries.push(e);
        m.ids.push(row.id);
      }
    }
    this.remember(key, m);
    return m;
  }

  async put(
    key: string,
    record: Omit<EntryRecord, "outputs">,
    outputs: readonly NewOutput[],
  ): Promise<Result<StoredEntry, StoreFailure>> {
    try {
      const stored: OutputRecord[] = [];
      const diskSizes = new Map<string, number>();
      for (const o of outputs) {
        const bytes = o.bytes ?? fs.readFileSync(o.path);
        const { hash, stored: onDisk } = this.blobs.write(bytes);
        stored.push({ role: o.role, path: o.path, hash, size: bytes.length });
        diskSizes.set(hash, onDisk);
      }
      const full: EntryRecord = { ...record, outputs: stored };
      const json = JSON.stringify(full);
      const bytes = stored.reduce((n, o) => n + o.size, 0) + json.length;
      const sealed = sealRecord(json);
      const digest = sealed.slice(0, 64);
      // A compile that produced exactly a quarantined record again (the same bytes, the same
      // compile time) is what the compiler now gives: the new entry is served, as any other.
      if (this.quarantine.has(key, digest)) this.quarantine.lift(key, digest);
      return ok(this.insertSealed(key, sealed, bytes, { ...full, digest }, diskSizes));
    } catch (e) {
      return err({ reason: "write-failed", detail: errorMessage(e) });
    }
  }

  /** Makes a sealed record (whose blobs are written) visible under `key`, newest first. */
  private insertSealed(key: string, sealed: string, bytes: number, entry: StoredEntry, diskSizes: ReadonlyMap<string, number>): StoredEntry {
    const id = this.index.insert(
      key,
      sealed,
      bytes,
      entry.outputs.map((o) => ({ hash: o.hash, size: o.size, stored: diskSizes.get(o.hash) ?? o.size })),
    );
    const m = this.cache.get(key);
    if (m !== undefined) {
      m.entries.unshift(entry);
      m.ids.unshift(id);
    }
    return entry;
  }

  /**
   * Imports an entry found on another tier: its blobs (already checked against their content
   * hashes by the caller, checked again here) and its record as sealed there, so the digest
   * stays the entry's name on every tier.
   */
  adopt(key: string, entry: StoredEntry, blobs: ReadonlyMap<string, Uint8Array>): Result<StoredEntry, StoreFailure> {
    try {
      // Everything is checked before anything is written: a refused entry leaves no blob behind.
      const { digest, ...record } = entry;
      const json = JSON.stringify(record);
      const sealed = sealRecord(json);
      if (sealed.slice(0, 64) !== digest) return err({ reason: "write-failed", detail: "record does not match its digest" });
      for (const o of entry.outputs) {
        const bytes = blobs.get(o.hash);
        if (bytes === undefined || bytes.length !== o.size || sha256Hex(bytes) !== o.hash) {
          return err({ reason: "write-failed", detail: `blob ${o.hash} missing or not matching its hash` });
        }
      }
      const diskSizes = new Map<string, number>();
      for (const o of entry.outputs) diskSizes.set(o.hash, this.blobs.write(blobs.get(o.hash) as Uint8Array).stored);
      const existing = this.index.idsOf(key, digest);
      if (existing.length > 0) return ok(entry);
      const bytes = entry.outputs.reduce((n, o) => n + o.size, 0) + json.length;
      return ok(this.insertSealed(key, sealed, bytes, entry, diskSizes));
    } catch (e) {
      return err({ reason: "write-failed", detail: errorMessage(e) });
    }
  }

  /** A blob's bytes, checked against its size and hash; null when gone or damaged. */
  readBlob(hash: ContentHash, size: number): Uint8Array | null {
    return this.blobs.read(hash, size);
  }

  async materialize(output: OutputRecord, dest: string, mode: DeliveryMode): Promise<Result<void, MaterializeFailure>> {
    return this.blobs.materialize(output.hash, output.size, dest, mode);
  }

  touch(key: string, digest: string): void {
    this.pendingTouches.set(`${key}:${digest}`, { key, digest, ms: Date.now() });
  }

  async remove(key: string, digest: string): Promise<void> {
    const m = this.cache.get(key);
    if (m !== undefined) {
      for (let i = m.entries.length - 1; i >= 0; i--) {
        if (m.entries[i]?.digest !== digest) continue;
        m.entries.splice(i, 1);
        m.ids.splice(i, 1);
      }
      if (m.entries.length === 0) this.cache.delete(key);
    }
    this.pendingTouches.delete(`${key}:${digest}`);
    for (const id of this.index.idsOf(key, digest)) this.dropRow(id);
  }

  /** Deletes an index row and the blobs only it referenced; returns the bytes freed. */
  private dropRow(id: number): number {
    let freed = 0;
    for (const b of this.index.delete(id, blobsOfRecord)) {
      if (isContentHash(b.hash)) this.blobs.remove(b.hash);
      freed += b.size;
    }
    return freed;
  }

  private remember(key: string, m: Manifest): void {
    this.cache.set(key, m);
    if (this.cache.size > MANIFEST_CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  totals(): StoreTotals {
    return { ...this.index.totals(), plainCopyBytes: this.blobs.twinBytesTotal };
  }

  evictTo(maxBytes: number): number {
    this.flush();
    let bytes = this.index.totals().bytes;
    if (bytes <= maxBytes) return 0;
    return this.evictWhile(
      (limit, offset) => this.index.oldest(limit, offset),
      (freed) => {
        bytes -= freed;
        return bytes > maxBytes;
      },
    );
  }

  /** Drops entries not used since `cutoffMs` (max_age, `--evict-older-than`); returns how many. */
  evictUnusedSince(cutoffMs: number): number {
    this.flush();
    return this.evictWhile(
      (limit, offset) => this.index.unusedSince(cutoffMs, limit, offset),
      () => true,
    );
  }

  /**
   * Drops entries in the order `batch` gives them while `more` says so, never one a hit is
   * being delivered from (held), which stays for the next round.
   */
  private evictWhile(
    batch: (limit: number, offset: number) => { id: number; digest: string }[],
    more: (freed: number) => boolean,
  ): number {
    // The in-memory manifests are only a memo: dropping them is cheaper than pruning each.
    this.cache.clear();
    let evicted = 0;
    let skipped = 0;
    for (;;) {
      const rows = batch(64, skipped);
      if (rows.length === 0) return evicted;
      for (const r of rows) {
        if (this.held.has(r.digest)) {
          skipped++;
          continue;
        }
        evicted++;
        if (!more(this.dropRow(r.id))) return evicted;
      }
    }
  }

  /**
   * Keeps an entry (its row and blobs) from eviction until the returned function is called:
   * the serve loop holds an entry while it delivers from it.
   */
  hold(entry: StoredEntry): () => void {
    this.held.set(entry.digest, (this.held.get(entry.digest) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(entry.digest) ?? 1) - 1;
      if (n <= 0) this.held.delete(entry.digest);
      else this.held.set(entry.digest, n);
    };
  }

  clear(): void {
    this.cache.clear();
    // The quarantine (barred) stays, as in the index: a remote may still serve the wrong entry.
    this.pendingTouches.clear();
    this.index.clearEntries();
    this.blobs.clear();
  }

  /** Toolchain fingerprints kept across restarts (cache/fingerprint-memo.ts). */
  readonly fingerprints = {
    get: (name: string): string | null => this.index.getFingerprint(name),
    set: (name: string, value: string): void => this.index.setFingerprint(name, value),
  };

  /**
   * Entries a verification proved wrong (daemon/verify.ts), kept in the index so they stay
   * barred across restarts; the serve loop asks `has` for every entry it looks at. Entries
   * stored under the same key later are not barred, and imports from a remote tier of a
   * barred digest stay barred (only a local `put` of the same record lifts it).
   */
  readonly quarantine = {
    has: (key: string, digest: string): boolean => this.barred.size > 0 && this.barred.has(`${key}\u0000${digest}`),
    add: (key: string, digests: readonly string[], reason: string): void => {
      this.index.addQuarantine(key, digests, reason);
      for (const d of digests) this.barred.add(`${key}\u0000${d}`);
    },
    lift: (key: string, digest: string): void => {
      this.index.liftQuarantine(key, digest);
      this.barred.delete(`${key}\u0000${digest}`);
    },
    count: (): number => this.barred.size,
  };

  loadCounters(): [string, number][] {
    return this.index.counters();
  }

  saveCounters(values: ReadonlyMap<string, number>): void {
    this.index.saveCounters(values);
  }

  flush(): void {
    if (this.pendingTouches.size === 0) return;
    const touches = [...this.pendingTouches.values()];
    this.pendingTouches.clear();
    this.index.touchMany(touches);
  }

  close(): void {
    this.flush();
    this.index.close();
    this.blobs.dropTwins();
  }
}
