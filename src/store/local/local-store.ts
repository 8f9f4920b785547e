// The local tier: SQLite index plus blob directory under the cache root.
import * as fs from "node:fs";
import * as path from "node:path";
import { isContentHash, sha256Hex } from "../../platform/hash.ts";
import { err, errorMessage, ok, type Result } from "../../platform/result.ts";
import type {
  DeliveryMode,
  EntryRecord,
  MaterializeFailure,
  NewOutput,
  OutputRecord,
  Store,
  StoredEntry,
  StoreTotals,
} from "../store.ts";
import { BlobDir } from "./blobs.ts";
import { IndexDb } from "./index-db.ts";
import { prepareRoot, type RootModes } from "./root-modes.ts";

/** Parsed entries kept in memory, by manifest key, most recently used last. */
const MANIFEST_CACHE_LIMIT = 4096;

/**
 * Rows are stored as "<sha256 of json>:<json>": a byte flipped on disk inside a row would
 * otherwise still parse and could replay the wrong stdout, exit code or output path.
 */
export function sealRecord(json: string): string {
  return `${sha256Hex(json)}:${json}`;
}

function unsealRecord(text: string): string | null {
  const colon = text.indexOf(":");
  if (colon !== 64) return null;
  const json = text.slice(65);
  return sha256Hex(json) === text.slice(0, 64) ? json : null;
}

function parseRecord(id: number, text: string): StoredEntry | null {
  const json = unsealRecord(text);
  if (json === null) return null;
  try {
    const r = JSON.parse(json) as EntryRecord;
    if (!Array.isArray(r.deps) || !Array.isArray(r.outputs) || !Array.isArray(r.absent)) return null;
    if (typeof r.exitCode !== "number" || typeof r.stdout !== "string" || typeof r.stderr !== "string") return null;
    if (!r.outputs.every((o) => isContentHash(o.hash) && typeof o.path === "string")) return null;
    if (!r.deps.every((d) => isContentHash(d.hash) && typeof d.path === "string")) return null;
    if (!r.absent.every((g) => Array.isArray(g) && typeof g[0] === "string" && Array.isArray(g[1]))) return null;
    return { ...r, id };
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

export class LocalStore implements Store {
  readonly blobs: BlobDir;
  private readonly index: IndexDb;
  private readonly cache = new Map<string, StoredEntry[]>();
  private readonly pendingTouches = new Map<number, number>();
  readonly recreatedIndex: boolean;
  /** What everything the daemon creates under this root must be created with. */
  readonly modes: RootModes;

  /** `onCorrupt` hears of every damaged row found (and dropped), so it can be counted. */
  constructor(
    readonly root: string,
    private readonly onCorrupt: (detail: string) => void = () => {},
  ) {
    this.modes = prepareRoot(root);
    this.blobs = new BlobDir(path.join(root, "blobs"), this.modes);
    const opened = IndexDb.open(path.join(root, "index.sqlite"), this.modes.file);
    this.index = opened.db;
    this.recreatedIndex = opened.recreated;
  }

  entries(manifestKey: string): readonly StoredEntry[] {
    const cached = this.cache.get(manifestKey);
    if (cached !== undefined) {
      this.cache.delete(manifestKey);
      this.cache.set(manifestKey, cached);
      return cached;
    }
    const list: StoredEntry[] = [];
    for (const row of this.index.byManifest(manifestKey)) {
      const e = parseRecord(row.id, row.record);
      if (e === null) {
        this.onCorrupt(`index row ${row.id} failed its checksum or shape check; dropped`);
        this.dropRow(row.id);
      } else list.push(e);
    }
    this.remember(manifestKey, list);
    return list;
  }

  put(
    manifestKey: string,
    record: Omit<EntryRecord, "outputs">,
    outputs: readonly NewOutput[],
  ): Result<StoredEntry, string> {
    try {
      const stored: OutputRecord[] = [];
      for (const o of outputs) {
        const bytes = fs.readFileSync(o.path);
        const hash = this.blobs.write(bytes);
        stored.push({ role: o.role, path: o.path, hash, size: bytes.length });
      }
      const full: EntryRecord = { ...record, outputs: stored };
      const json = JSON.stringify(full);
      const bytes = stored.reduce((n, o) => n + o.size, 0) + json.length;
      const id = this.index.insert(manifestKey, sealRecord(json), bytes, stored);
      const entry: StoredEntry = { ...full, id };
      const list = this.cache.get(manifestKey);
      if (list !== undefined) list.unshift(entry);
      return ok(entry);
    } catch (e) {
      return err(errorMessage(e));
    }
  }

  materialize(output: OutputRecord, mode: DeliveryMode): Result<void, MaterializeFailure> {
    return this.blobs.materialize(output.hash, output.size, output.path, mode);
  }

  touch(id: number): void {
    this.pendingTouches.set(id, Date.now());
  }

  remove(id: number): void {
    this.forget(id);
    this.dropRow(id);
  }

  /** Drops an entry from the in-memory manifest cache. */
  private forget(id: number): void {
    for (const [key, list] of this.cache) {
      const i = list.findIndex((e) => e.id === id);
      if (i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) this.cache.delete(key);
        return;
      }
    }
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

  private remember(key: string, list: StoredEntry[]): void {
    this.cache.set(key, list);
    if (this.cache.size > MANIFEST_CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  totals(): StoreTotals {
    return this.index.totals();
  }

  evictTo(maxBytes: number): number {
    this.flush();
    let bytes = this.index.totals().bytes;
    if (bytes <= maxBytes) return 0;
    // The in-memory manifests are only a memo: dropping them is cheaper than pruning each.
    this.cache.clear();
    let evicted = 0;
    while (bytes > maxBytes) {
      const batch = this.index.oldest(64);
      if (batch.length === 0) break;
      for (const id of batch) {
        bytes -= this.dropRow(id);
        evicted++;
        if (bytes <= maxBytes) break;
      }
    }
    return evicted;
  }

  clear(): void {
    this.cache.clear();
    this.pendingTouches.clear();
    this.index.clearEntries();
    this.blobs.clear();
  }

  loadCounters(): [string, number][] {
    return this.index.counters();
  }

  saveCounters(values: ReadonlyMap<string, number>): void {
    this.index.saveCounters(values);
  }

  flush(): void {
    if (this.pendingTouches.size === 0) return;
    const touches = new Map(this.pendingTouches);
    this.pendingTouches.clear();
    this.index.touchMany(touches);
  }

  close(): void {
    this.flush();
    this.index.close();
  }
}
