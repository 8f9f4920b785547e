// Per-output compile history for `zccache explain`: the latest compile's outcome and inputs,
// and for a miss, what changed since the compile before it. Bounded to the most recent
// outputs so a big tree cannot grow it without limit. Every miss's causes are also kept in a
// log of their own (bounded by rows), which `explain --session` matches to journal lines.
import { Database } from "bun:sqlite";
import { precreate } from "../store/local/root-modes.ts";
import type { CompileFacts, LazyFacts } from "../cache/context.ts";
import type { Outcome } from "../stats/outcomes.ts";
import { type Cause, diffFacts } from "./explain.ts";

const MAX_OUTPUTS = 5_000;
/** A little more than the journal's two generations hold (~32 MiB of ~500-byte lines). */
const MAX_MISS_ROWS = 80_000;
/**
 * Changed files kept per logged miss (the rollup names three); the rest are only counted, so
 * a compiler upgrade that changes 300 system headers cannot make a row 50 KiB.
 */
const MAX_FILES_LOGGED = 4;
/** How long a queued history row waits for others to share its transaction. */
const FLUSH_DELAY_MS = 200;
/** A queue this long is written at once. */
const MAX_QUEUED = 512;

/**
 * What a miss's causes were computed from: `diff` — the facts of this compile and of the one
 * before it; `first` — no earlier compile of the output is known; `unknown` — this compile
 * recorded no facts.
 */
export type MissBasis = "diff" | "first" | "unknown";

/** One miss of the log: when it was recorded (ms), its output, and why it missed. */
export interface MissRecord {
  readonly id: number;
  readonly atMs: number;
  readonly output: string;
  readonly basis: MissBasis;
  /** Every cause but changed files past the first MAX_FILES_LOGGED (by path). */
  readonly causes: readonly Cause[];
  /** How many changed files were left out of `causes`. */
  readonly moreFiles: number;
}

interface MissRow {
  id: number;
  ts: number;
  output: string;
  basis: string;
  causes: string;
  more_files: number;
}
export interface ExplainReport {
  readonly output: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly at: string;
  readonly causes: readonly Cause[];
  readonly summary: string;
}

interface Row {
  ts: number;
  outcome: string;
  reason: string | null;
  facts: string | null;
  causes: string;
}

function isLazy(f: CompileFacts | LazyFacts): f is LazyFacts {
  return "get" in f;
}

/**
 * Identifies a compile's inputs without serialising them: equal fingerprints mean equal facts.
 * A hit repeating the last recorded compile of an output then costs one small UPDATE instead
 * of reading, parsing and rewriting its whole dependency list (~270 headers for STL code).
 */
function factsFingerprint(f: CompileFacts): string {
  const parts = [f.compiler, f.compilerHash, f.cwd, f.source.path, f.source.hash, String(f.args.length), ...f.args, String(f.env.length), ...f.env];
  for (const d of f.deps) parts.push(d.path, d.hash);
  return parts.join("\u0000");
}

export class CompileHistory {
  private readonly db: Database;
  private writes = 0;
  /** Output → fingerprint of the facts its row holds, for the outputs written since start. */
  private readonly stored = new Map<string, string>();
  /** Rows queued by recordLater, written together by flush. */
  private readonly pending: { readonly write: () => void; readonly onError: (e: unknown) => void }[] = [];

  /** `fileMode` (when set) is given to the database file, and so to its -wal and -shm. */
  constructor(file: string, fileMode: number | undefined) {
    precreate(file, fileMode);
    this.db = new Database(file, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS history(output TEXT PRIMARY KEY, ts INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT, facts TEXT, causes TEXT NOT NULL)",
    );
    this.db.exec("CREATE INDEX IF NOT EXISTS history_by_ts ON history(ts)");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS misses(id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, output TEXT NOT NULL, basis TEXT NOT NULL, causes TEXT NOT NULL, more_files INTEGER NOT NULL)",
    );
    this.db.exec("CREATE INDEX IF NOT EXISTS misses_by_ts ON misses(ts)");
  }

  /**
   * Records after the current reply has gone out: a miss's history row (a read, a diff and an
   * upsert) is not worth making the build wait for. Rows are written in batches, one
   * transaction each, a moment after the first of them was queued: one commit per compile
   * took ~8% of the daemon's time in a make -j2 rebuild, time the build's other compile
   * waited for. Anything that reads the history (explain, clear, close) writes the queue
   * first, so no answer ever misses a row.
   */
  recordLater(output: string, outcome: Outcome, facts: CompileFacts | LazyFacts | undefined, onError: (e: unknown) => void, atMs: number = Date.now()): void {
    // Stamped with the compile's journal line's time (the caller's): the session rollup pairs
    // the two by output and time, so the stamp must not wait for the queue.
    this.pending.push({ write: () => this.record(output, outcome, facts, atMs), onError });
    // A long queue is written on the next turn, still after this compile's reply.
    if (this.pending.length === MAX_QUEUED) setImmediate(() => this.flush());
    else if (this.pending.length === 1) setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  /** Writes every queued row now, in one transaction. */
  flush(): void {
    const queued = this.pending.splice(0);
    if (queued.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const q of queued) {
          try {
            q.write();
          } catch (e) {
            q.onError(e);
          }
        }
      })();
    } catch (e) {
      // The commit itself failed (a full disk): the batch is lost, said once. What the batch
      // remembered as written is not: the next hit of each output writes its row whole.
      this.stored.clear();
      queued[0]?.onError(e);
    }
  }

  record(output: string, outcome: Outcome, given: CompileFacts | LazyFacts | undefined, atMs: number = Date.now()): void {
    // The two kinds of fingerprint never equal each other: a lazy one repeats only itself.
    const fingerprint = given === undefined ? null : isLazy(given) ? `lazy\u0000${given.fingerprint}` : factsFingerprint(given);
    if (outcome.kind === "hit" && fingerprint !== null && this.stored.get(output) === fingerprint) {
      // Same inputs as the row already says: only the outcome and time change.
      const updated = this.db
        .query("UPDATE history SET ts = ?, outcome = 'hit', reason = NULL, causes = '[]' WHERE output = ?")
        .run(atMs, output);
      // Zero rows: pruned (or cleared) since; write it whole again below.
      if (updated.changes > 0) return;
    }
    const facts = given === undefined ? undefined : isLazy(given) ? given.get() : given;
    const prev = this.db.query<Row, [string]>("SELECT ts, outcome, reason, facts, causes FROM history WHERE output = ?").get(output);
    const prevFacts = prev?.facts ? (JSON.parse(prev.facts) as CompileFacts) : null;
    let causes: Cause[] = [];
    if (outcome.kind === "miss" && facts !== undefined && prevFacts !== null) causes = diffFacts(prevFacts, facts);
    const reason = outcome.kind === "hit" ? null : outcome.reason;
    // Keep the last known inputs when this compile recorded none (uncacheable, failed).
    const storedFacts = facts !== undefined ? JSON.stringify(facts) : (prev?.facts ?? null);
    this.db
      .query(
        "INSERT INTO history(output, ts, outcome, reason, facts, causes) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(output) DO UPDATE SET ts = excluded.ts, outcome = excluded.outcome, reason = excluded.reason, facts = excluded.facts, causes = excluded.causes",
      )
      .run(output, atMs, outcome.kind, reason, storedFacts, JSON.stringify(causes));
    if (outcome.kind === "miss") {
      const basis: MissBasis = facts === undefined ? "unknown" : prevFacts === null ? "first" : "diff";
      const files = causes.filter((c) => c.kind === "header").sort((a, b) => ((a.path ?? a.detail) < (b.path ?? b.detail) ? -1 : 1));
      const kept = [...causes.filter((c) => c.kind !== "header"), ...files.slice(0, MAX_FILES_LOGGED)];
      this.db
        .query("INSERT INTO misses(ts, output, basis, causes, more_files) VALUES (?, ?, ?, ?, ?)")
        .run(atMs, output, basis, JSON.stringify(kept), Math.max(0, files.length - MAX_FILES_LOGGED));
    }
    if (this.stored.size >= MAX_OUTPUTS * 2) this.stored.clear();
    if (fingerprint !== null) this.stored.set(output, fingerprint);
    else this.stored.delete(output);
    if (++this.writes % 500 === 0) this.prune();
  }

  private prune(): void {
    this.db
      .query("DELETE FROM history WHERE output NOT IN (SELECT output FROM history ORDER BY ts DESC LIMIT ?)")
      .run(MAX_OUTPUTS);
    this.db.query("DELETE FROM misses WHERE id <= (SELECT MAX(id) FROM misses) - ?").run(MAX_MISS_ROWS);
  }

  /** The misses recorded from `fromMs` to `toMs` (inclusive), oldest first. */
  missesBetween(fromMs: number, toMs: number): MissRecord[] {
    this.flush();
    const rows = this.db
      .query<MissRow, [number, number]>("SELECT id, ts, output, basis, causes, more_files FROM misses WHERE ts >= ? AND ts <= ? ORDER BY ts, id")
      .all(fromMs, toMs);
    return rows.map((r) => ({
      id: r.id,
      atMs: r.ts,
      output: r.output,
      basis: r.basis === "diff" || r.basis === "first" ? r.basis : "unknown",
      causes: JSON.parse(r.causes) as Cause[],
      moreFiles: r.more_files,
    }));
  }

  explain(output: string): ExplainReport | null {
    this.flush();
    const row = this.db.query<Row, [string]>("SELECT ts, outcome, reason, facts, causes FROM history WHERE output = ?").get(output);
    if (row === null) return null;
    const causes = JSON.parse(row.causes) as Cause[];
    return { output, outcome: row.outcome, reason: row.reason, at: new Date(row.ts).toISOString(), causes, summary: summarize(row, causes) };
  }

  clear(): void {
    // The miss log stays: like the journal, it says what happened, not what is cached. So
    // the queue's miss rows are written first; their history rows go with the rest.
    this.flush();
    this.db.exec("DELETE FROM history");
    this.stored.clear();
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

function summarize(row: Row, causes: readonly Cause[]): string {
  switch (row.outcome) {
    case "hit":
      return "hit: delivered from the cache";
    case "uncacheable":
      return `not cacheable (${row.reason}): the compiler ran without the cache`;
    case "error":
      return `cache error (${row.reason}): the compiler ran without the cache`;
    default:
      break;
  }
  if (row.reason === "corrupt-entry") return "miss: the cached entry was corrupt and has been replaced";
  if (row.reason === "delivery-failed") return "miss: the cached outputs could not be written, so the compiler ran";
  if (row.reason === "quarantined") return "miss: the cached entry was proved wrong by a verification (verify_rate) and is quarantined";
  if (causes.length > 0) return `miss: ${causes.map((c) => c.detail).join("; ")}`;
  if (row.reason === "new-source") return "miss: no earlier compile of these inputs is in the cache (first build, cleared or evicted)";
  return "miss: inputs match an earlier compile, but its entry is no longer in the cache";
}
