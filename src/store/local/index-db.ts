// The SQLite index (WAL): entries by manifest key, blob reference counts, counters.
import { Database, type Statement } from "bun:sqlite";
import * as fs from "node:fs";
import { precreate } from "./root-modes.ts";

const SCHEMA_VERSION = "1";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY,
  manifest_key TEXT NOT NULL,
  record TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  last_used_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_manifest ON entries(manifest_key);
CREATE INDEX IF NOT EXISTS entries_by_use ON entries(last_used_ms);
CREATE TABLE IF NOT EXISTS blobs(hash TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL, stored INTEGER);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fingerprints(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine(
  manifest_key TEXT NOT NULL,
  digest TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY(manifest_key, digest)
);
`;

export interface EntryRow {
  id: number;
  record: string;
  bytes: number;
}

export class IndexDb {
  readonly db: Database;
  private readonly q: {
    byManifest: Statement<EntryRow, [string]>;
    insertEntry: Statement<unknown, [string, string, number, number, number]>;
    entryRecord: Statement<{ record: string; bytes: number }, [number]>;
    deleteEntry: Statement<unknown, [number]>;
    idsOf: Statement<{ id: number }, [string, string]>;
    touch: Statement<unknown, [number, string, string]>;
    addBlobRef: Statement<unknown, [string, number, number]>;
    dropBlobRef: Statement<unknown, [string]>;
    blobRefs: Statement<{ refs: number; size: number }, [string]>;
    deleteBlob: Statement<unknown, [string]>;
    totals: Statement<{ entries: number; bytes: number | null; raw: number | null }, []>;
    oldest: Statement<{ id: number; digest: string }, [number, number]>;
    unusedSince: Statement<{ id: number; digest: string }, [number, number, number]>;
    counters: Statement<{ name: string; value: number }, []>;
    setCounter: Statement<unknown, [string, number]>;
    getFingerprint: Statement<{ value: string }, [string]>;
    setFingerprint: Statement<unknown, [string, string]>;
    quarantined: Statement<{ manifest_key: string; digest: string }, []>;
    addQuarantine: Statement<unknown, [string, string, string, number]>;
    liftQuarantine: Statement<unknown, [string, string]>;
  };

  /** Opens the index; a file that is not a usable database is moved aside and recreated. */
  static open(file: string, fileMode: number | undefined): { db: IndexDb; recreated: boolean } {
    try {
      precreate(file, fileMode);
      return { db: new IndexDb(file), recreated: false };
    } catch {
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          fs.renameSync(file + suffix, `${file}${suffix}.corrupt-${Date.now()}`);
        } catch {
          // absent is fine
        }
      }
      precreate(file, fileMode);
      return { db: new IndexDb(file), recreated: true };
    }
  }

  private constructor(file: string) {
    this.db = new Database(file, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.db.exec(SCHEMA);
    // Indexes from before compression: blobs gain the size they take on disk (NULL = size).
    const columns = this.db.query<{ name: string }, []>("PRAGMA table_info(blobs)").all();
    if (!columns.some((c) => c.name === "stored")) this.db.exec("ALTER TABLE blobs ADD COLUMN stored INTEGER");
    const check = this.db.query<{ quick_check: string }, []>("PRAGMA quick_check").get();
    if (check?.quick_check !== "ok") throw new Error("index failed its integrity check");
    this.db.query("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
    this.q = {
      byManifest: this.db.query(
        "SELECT id, record, bytes FROM entries WHERE manifest_key = ? ORDER BY last_used_ms DESC, id DESC",
      ),
      insertEntry: this.db.query(
        "INSERT INTO entries(manifest_key, record, bytes, created_ms, last_used_ms) VALUES (?, ?, ?, ?, ?)",
      ),
      entryRecord: this.db.query("SELECT record, bytes FROM entries WHERE id = ?"),
      deleteEntry: this.db.query("DELETE FROM entries WHERE id = ?"),
      // A row's record starts with the digest of its JSON (local-store.ts sealRecord).
      idsOf: this.db.query("SELECT id FROM entries WHERE manifest_key = ? AND substr(record, 1, 64) = ?"),
      touch: this.db.query("UPDATE entries SET last_used_ms = ? WHERE manifest_key = ? AND substr(record, 1, 64) = ?"),
      addBlobRef: this.db.query(
        "INSERT INTO blobs(hash, size, stored, refs) VALUES (?, ?, ?, 1) ON CONFLICT(hash) DO UPDATE SET refs = refs + 1",
      ),
      dropBlobRef: this.db.query("UPDATE blobs SET refs = refs - 1 WHERE hash = ?"),
      // What a blob takes on disk: compressed, or (rows from before compression) its size.
      blobRefs: this.db.query("SELECT refs, COALESCE(stored, size) AS size FROM blobs WHERE hash = ?"),
      deleteBlob: this.db.query("DELETE FROM blobs WHERE hash = ?"),
      // Bytes are those of the blob files on disk: shared blobs count once.
      totals: this.db.query(
        "SELECT (SELECT COUNT(*) FROM entries) AS entries, (SELECT SUM(COALESCE(stored, size)) FROM blobs) AS bytes, (SELECT SUM(size) FROM blobs) AS raw",
      ),
      oldest: this.db.query(
        "SELECT id, substr(record, 1, 64) AS digest FROM entries ORDER BY last_used_ms ASC, id ASC LIMIT ? OFFSET ?",
      ),
      unusedSince: this.db.query(
        "SELECT id, substr(record, 1, 64) AS digest FROM entries WHERE last_used_ms < ? ORDER BY last_used_ms ASC, id ASC LIMIT ? OFFSET ?",
      ),
      counters: this.db.query("SELECT name, value FROM counters"),
      setCounter: this.db.query(
        "INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ),
      getFingerprint: this.db.query("SELECT value FROM fingerprints WHERE name = ?"),
      setFingerprint: this.db.query(
        "INSERT INTO fingerprints(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ),
      quarantined: this.db.query("SELECT manifest_key, digest FROM quarantine"),
      addQuarantine: this.db.query("INSERT OR IGNORE INTO quarantine(manifest_key, digest, reason, at_ms) VALUES (?, ?, ?, ?)"),
      liftQuarantine: this.db.query("DELETE FROM quarantine WHERE manifest_key = ? AND digest = ?"),
    };
  }

  byManifest(key: string): EntryRow[] {
    return this.q.byManifest.all(key);
  }

  /** `stored`: the blob's size on disk (compressed), when it differs from `size`. */
  insert(key: string, record: string, bytes: number, blobs: readonly { hash: string; size: number; stored?: number }[]): number {
    const now = Date.now();
    return this.db.transaction(() => {
      const r = this.q.insertEntry.run(key, record, bytes, now, now) as { lastInsertRowid: number | bigint };
      for (const b of blobs) this.q.addBlobRef.run(b.hash, b.size, b.stored ?? b.size);
      return Number(r.lastInsertRowid);
    })();
  }

  /** Deletes an entry; returns the blobs that no entry references any more. */
  delete(id: number, blobsOf: (record: string) => string[]): { hash: string; size: number }[] {
    return this.db.transaction(() => {
      const row = this.q.entryRecord.get(id);
      if (row === null) return [];
      this.q.deleteEntry.run(id);
      const orphaned: { hash: string; size: number }[] = [];
      for (const hash of blobsOf(row.record)) {
        this.q.dropBlobRef.run(hash);
        const refs = this.q.blobRefs.get(hash);
        if (refs !== null && refs.refs <= 0) {
          this.q.deleteBlob.run(hash);
          orphaned.push({ hash, size: refs.size });
        }
      }
      return orphaned;
    })();
  }

  /** The rows of one entry (identical records stored twice share a digest). */
  idsOf(key: string, digest: string): number[] {
    return this.q.idsOf.all(key, digest).map((r) => r.id);
  }

  touchMany(uses: Iterable<{ readonly key: string; readonly digest: string; readonly ms: number }>): void {
    this.db.transaction(() => {
      for (const u of uses) this.q.touch.run(u.ms, u.key, u.digest);
    })();
  }

  /** The least recently used entries, oldest first (skipping `offset` of them). */
  oldest(limit: number, offset = 0): { id: number; digest: string }[] {
    return this.q.oldest.all(limit, offset);
  }

  /** Entries last used before `cutoffMs`, oldest first (skipping `offset` of them). */
  unusedSince(cutoffMs: number, limit: number, offset = 0): { id: number; digest: string }[] {
    return this.q.unusedSince.all(cutoffMs, limit, offset);
  }

  /** Entries, bytes on disk, and what those blobs hold uncompressed. */
  totals(): { entries: number; bytes: number; uncompressedBytes: number } {
    const t = this.q.totals.get();
    return { entries: t?.entries ?? 0, bytes: t?.bytes ?? 0, uncompressedBytes: t?.raw ?? 0 };
  }

  /**
   * `zccache clear`: entries and blobs and the toolchain fingerprints. The quarantine stays: a
   * remote tier may still hold an entry a verification proved wrong.
   */
  clearEntries(): void {
    this.db.transaction(() => {
      this.db.exec("DELETE FROM entries");
      this.db.exec("DELETE FROM blobs");
      this.db.exec("DELETE FROM fingerprints");
    })();
  }

  /** Every quarantined entry, by key and digest (a handful: each is a proved-wrong hit). */
  quarantined(): { key: string; digest: string }[] {
    return this.q.quarantined.all().map((r) => ({ key: r.manifest_key, digest: r.digest }));
  }

  addQuarantine(key: string, digests: readonly string[], reason: string): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const d of digests) this.q.addQuarantine.run(key, d, reason, now);
    })();
  }

  liftQuarantine(key: string, digest: string): void {
    this.q.liftQuarantine.run(key, digest);
  }

  counters(): [string, number][] {
    return this.q.counters.all().map((r) => [r.name, r.value]);
  }

  saveCounters(values: ReadonlyMap<string, number>): void {
    this.db.transaction(() => {
      this.db.exec("DELETE FROM counters");
      for (const [k, v] of values) this.q.setCounter.run(k, v);
    })();
  }

  getFingerprint(name: string): string | null {
    return this.q.getFingerprint.get(name)?.value ?? null;
  }

  setFingerprint(name: string, value: string): void {
    this.q.setFingerprint.run(name, value);
  }

  close(): void {
    this.db.close();
  }
}
