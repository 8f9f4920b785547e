// Everything one running daemon owns: config, store, counters, memo caches, activity.
import * as fs from "node:fs";
import * as path from "node:path";
import { AbsenceChecker } from "../cache/absence.ts";
import { CompilerIdentities } from "../cache/compiler-identity.ts";
import type { OutcomeDetail, PipelineContext, StatsSink } from "../cache/context.ts";
import { OutputWrites } from "../cache/output-writes.ts";
import { FileHashes } from "../cache/file-hashes.ts";
import { SystemDirs } from "../compilers/cc/search-path.ts";
import { CONFIG_FILE_NAME, type Config, type DeliveryChoice, effectiveDelivery, loadConfig } from "../config/config.ts";
import { errorMessage } from "../platform/result.ts";
import type { Endpoint } from "../protocol/endpoint.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames, type ErrorReason, type Language, type Outcome } from "../stats/outcomes.ts";
import { LocalStore } from "../store/local/local-store.ts";
import { twinBudget } from "../store/local/blobs.ts";
import { Remotes } from "../store/remote/remotes.ts";
import { usePersistentMemo } from "../cache/fingerprint-memo.ts";
import type { LocalTier, Store } from "../store/store.ts";
import { CompileHistory } from "./history.ts";
import { Journal } from "./journal.ts";
import { LifecycleEvents, type ExitEvent, type StartReason } from "./lifecycle-events.ts";
import { Logger } from "./logger.ts";
import { Owners } from "./owners.ts";
import { Sessions } from "./sessions.ts";
import { Verifier } from "./verify.ts";
import type { Quarantine } from "../serve/serve.ts";

const PERSIST_INTERVAL_MS = 2_000;

/** The settings a config-file edit changes in a running daemon. */
export interface Limits {
  readonly cacheSizeBytes: number;
  readonly maxAgeSecs: number;
  /** zstd level for new blobs, after the hardlink rule (compressionFor). */
  readonly compressionLevel: number;
}

/**
 * Compressed blobs cannot be hardlinked (they are delivered by copy): with hardlink delivery
 * in force, blobs are stored uncompressed unless a compression level was set explicitly.
 */
export function compressionFor(config: Pick<Config, "compressionLevel">, delivery: DeliveryChoice): number {
  return config.compressionLevel.source === "default" && delivery.mode === "hardlink" ? 0 : config.compressionLevel.value;
}
/** How often entries are checked against max_age. */
const AGE_CHECK_MS = 60_000;

/** How often a daemon whose recreated store failed to open tries again. */
const REOPEN_RETRY_MS = 5_000;

export class DaemonState {
  readonly startedAtMs = Date.now();
  readonly version: string;
  readonly counters = new Counters();
  readonly ctx: PipelineContext;
  readonly log: Logger;
  readonly journal: Journal;
  readonly sessions = new Sessions();
  /** What delivery really happens (hardlink falls back to copy as root), and why. */
  readonly delivery: DeliveryChoice;
  /** Remote tiers builds have named (ZCCACHE_REMOTE_STORAGE), with their counters and write queue. */
  readonly remotes: Remotes;
  /** Background re-compiles of a share of hits (verify_rate), one at a time, at low priority. */
  readonly verifier: Verifier;
  history: CompileHistory | null = null;
  storeProblem: string | null = null;
  inflight = 0;
  lastActivityMs = Date.now();
  /** <root>/logs/lifecycle.jsonl: start, hand-over, exits, crash recovery. */
  readonly lifecycle: LifecycleEvents;
  /** The processes this daemon lives for; none unless started with owners. */
  readonly owners = new Owners();
  startReason: StartReason = "auto";
  /** Why a requested shutdown happens (stop, hand-over), set by dispatch before it asks. */
  pendingExit: ExitEvent | null = null;
  private current: LocalStore | null = null;
  /** The index file the open store uses: when it vanishes, the root was deleted or replaced. */
  private indexIdentity: { dev: number; ino: number } | null = null;
  /** Stores replaced while requests may still hold them; closed once nothing is in flight. */
  private retired: LocalStore[] = [];
  private lostStore = false;
  private lastReopenMs = 0;
  private persistTimer: ReturnType<typeof setInterval> | null = null;
  private lastAgeCheckMs = 0;
  /** The config file's stat when `currentLimits` were read from it. */
  private configStamp: string | null = null;
  private currentLimits: Limits;

  constructor(
    readonly ep: Endpoint,
    readonly config: Config,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    // Test-only: lets the suite stand up an "older" or "newer" daemon. Documented as such.
    this.version = env.ZCCACHE_TEST_DAEMON_VERSION || PRODUCT_VERSION;
    this.lifecycle = new LifecycleEvents(this.version);
    this.currentLimits = {
      cacheSizeBytes: config.cacheSizeBytes.value,
      maxAgeSecs: config.maxAgeSecs.value,
      compressionLevel: compressionFor(config, effectiveDelivery(config.delivery, process.getuid?.() ?? -1)),
    };
    this.delivery = effectiveDelivery(config.delivery, process.getuid?.() ?? -1);
    this.log = new Logger(null, config.logLevel.value);
    this.journal = new Journal(null);
    this.remotes = new Remotes((message) => this.log.error(message));
    const counters = this.counters;
    const log = this.log;
    const stats: StatsSink = {
      record(outcome: Outcome, language: Language, detail?: OutcomeDetail): void {
        counters.record(outcome, language);
        for (const h of detail?.hints ?? []) counters.add(`hint.${h}`, 1);
      },
      error(reason: ErrorReason, detail: string): void {
        for (const name of counterNames({ kind: "error", reason }, "other")) counters.add(name, 1);
        log.error(`${reason}: ${detail}`);
      },
    };
    const currentStore = (): Store | null => this.current;
    const currentLocal = (): LocalStore | null => this.current;
    this.ctx = {
      // Read through, so a store recreated after the root was deleted is seen by every handler.
      get store(): Store | null {
        return currentStore();
      },
      get quarantine(): Quarantine | undefined {
        return currentLocal()?.quarantine;
      },
      files: new FileHashes(),
      writes: new OutputWrites(),
      absence: new AbsenceChecker(),
      compilers: new CompilerIdentities(),
      systemDirs: new SystemDirs(),
      deliveryMode: this.delivery.mode,
      tmpDir: path.join(ep.cacheRoot, "tmp"),
      stats,
      relocation: { baseDirs: config.baseDirs.value, remap: config.pathRemap.value },
      prefixCommand: config.prefixCommand.value,
      preprocessorFallback: config.preprocessorFallback.value,
    };
    this.verifier = new Verifier({
      counters,
      store: currentLocal,
      services: this.ctx,
      tmpDir: this.ctx.tmpDir,
      journal: this.journal,
      log,
    });
    this.openStore();
    if (this.current !== null) this.counters.load(this.current.loadCounters());
  }

  /** How many entries a verification proved wrong and the serve loop now passes over. */
  quarantined(): number {
    return this.current?.quarantine.count() ?? 0;
  }

  /** The local tier itself: eviction, totals, counters and flushing are its alone. */
  get store(): LocalTier | null {
    return this.current;
  }

  /** Opens the store, log, journal and history under the cache root (creating the root if needed). */
  private openStore(): void {
    const root = this.ep.cacheRoot;
    const tmpDir = this.ctx.tmpDir;
    let store: LocalStore | null = null;
    try {
      store = new LocalStore(root, (detail) => this.ctx.stats.error("store-read-failed", detail));
      fs.rmSync(tmpDir, { recursive: true, force: true });
      fs.mkdirSync(tmpDir, { recursive: true, mode: store.modes.dir });
      const st = fs.statSync(this.indexPath());
      this.indexIdentity = { dev: st.dev, ino: st.ino };
      this.storeProblem = null;
    } catch (e) {
      store?.close();
      store = null;
      this.indexIdentity = null;
      this.storeProblem = errorMessage(e);
    }
    this.current = store;
    if (store !== null) this.applyLimits(store);
    // Toolchain fingerprints outlive the daemon in this store's index.
    usePersistentMemo(store === null ? null : store.fingerprints);
    const modes = store?.modes ?? { dir: undefined, file: undefined };
    this.log.reopen(store === null ? null : path.join(root, "logs", "daemon.log"), modes);
    this.journal.reopen(store === null ? null : path.join(root, "logs", "compile_journal.jsonl"), modes);
    this.lifecycle.reopen(store === null ? null : path.join(root, "logs", "lifecycle.jsonl"), modes);
    if (store?.recreatedIndex) {
      this.log.error("index was unreadable; moved aside and recreated");
      for (const name of counterNames({ kind: "error", reason: "index-corrupt" }, "other")) this.counters.add(name, 1);
    }
    this.history = null;
    if (store !== null) {
      try {
        this.history = new CompileHistory(path.join(root, "history.sqlite"), modes.file);
      } catch (e) {
        fs.rmSync(path.join(root, "history.sqlite"), { force: true });
        this.log.error(`compile history unavailable: ${errorMessage(e)}`);
      }
    }
    if (this.storeProblem !== null) this.log.error(`cache unavailable: ${this.storeProblem}`);
  }

  /**
   * Called before a request that uses the store. A cache root deleted (or replaced) under a
   * running daemon is recreated here, so builds are cached again at once instead of running
   * uncached until the daemon exits; costs one stat.
   */
  ensureStore(): void {
    if (this.retired.length > 0 && this.inflight <= 1) this.closeRetired();
    if (this.current !== null && this.indexIdentity !== null) {
      const st = fs.statSync(this.indexPath(), { throwIfNoEntry: false });
      if (st !== undefined && st.dev === this.indexIdentity.dev && st.ino === this.indexIdentity.ino) return;
    } else if (!this.lostStore || Date.now() - this.lastReopenMs < REOPEN_RETRY_MS) {
      // Never opened (a problem found at start stays until the daemon is restarted).
      return;
    }
    this.lostStore = true;
    this.lastReopenMs = Date.now();
    const old = this.current;
    const oldHistory = this.history;
    if (old !== null) this.retired.push(old);
    this.openStore();
    try {
      oldHistory?.close();
    } catch {
      // it lived in the deleted root
    }
    if (this.current !== null) {
      this.lostStore = false;
      // The new index starts empty: give it the counters we hold in memory.
      this.current.saveCounters(this.counters.snapshot());
      this.log.info(`cache root ${this.ep.cacheRoot} was deleted or replaced; store recreated`);
    }
  }

  private indexPath(): string {
    return `${this.ep.cacheRoot}/index.sqlite`;
  }

  private closeRetired(): void {
    for (const s of this.retired.splice(0)) {
      try {
        s.close();
      } catch {
        // its files are gone; nothing to flush
      }
    }
  }

  startPersisting(): void {
    this.persistTimer = setInterval(() => this.persist(), PERSIST_INTERVAL_MS);
  }

  persist(): void {
    if (this.store === null) return;
    try {
      this.evictIfOverBudget();
      const dirty = this.counters.takeDirty();
      if (dirty !== null) this.store.saveCounters(dirty);
      this.store.flush();
    } catch (e) {
      this.log.error(`persisting failed: ${errorMessage(e)}`);
    }
  }

  /**
   * Keeps the store under its budget, evicting down to 90% so eviction runs in batches, and
   * drops entries older than max_age (checked at most once a minute).
   */
  private evictIfOverBudget(): void {
    if (this.store === null) return;
    const limits = this.limits();
    const limit = limits.cacheSizeBytes;
    if (this.store.totals().bytes > limit) {
      const n = this.store.evictTo(Math.floor(limit * 0.9));
      this.counters.add("evicted", n);
      this.log.info(`evicted ${n} entries to stay under ${limit} bytes`);
    }
    if (limits.maxAgeSecs > 0 && Date.now() - this.lastAgeCheckMs >= AGE_CHECK_MS) {
      this.lastAgeCheckMs = Date.now();
      const n = this.store.evictUnusedSince(Date.now() - limits.maxAgeSecs * 1000);
      if (n > 0) {
        this.counters.add("evicted", n);
        this.log.info(`evicted ${n} entries unused for more than ${limits.maxAgeSecs} s`);
      }
    }
  }

  /**
   * The budget and age limit in force: the daemon's own settings, except that a later edit of
   * the config file (`zccache -M 5G`, `--set-config max_age=…`) applies at once where the
   * environment did not set them.
   */
  limits(): Limits {
    const file = path.join(this.ep.cacheRoot, CONFIG_FILE_NAME);
    let stamp = "none";
    try {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st !== undefined) stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // A cache root that is not a directory (ENOTDIR) or not readable: no file to apply.
    }
    if (stamp !== this.configStamp) {
      this.configStamp = stamp;
      const env: Record<string, string> = {};
      if (this.config.cacheSizeBytes.source === "env") env.ZCCACHE_CACHE_SIZE = String(this.config.cacheSizeBytes.value);
      if (this.config.maxAgeSecs.source === "env") env.ZCCACHE_MAX_AGE = String(this.config.maxAgeSecs.value);
      if (this.config.compressionLevel.source === "env") env.ZCCACHE_COMPRESSION_LEVEL = String(this.config.compressionLevel.value);
      const r = loadConfig(this.ep.cacheRoot, env);
      if (r.ok) {
        this.currentLimits = {
          cacheSizeBytes: r.value.cacheSizeBytes.value,
          maxAgeSecs: r.value.maxAgeSecs.value,
          compressionLevel: compressionFor(r.value, this.delivery),
        };
      } else this.log.error(`config file not applied: ${r.error}`);
    }
    if (this.current !== null) this.applyLimits(this.current);
    return this.currentLimits;
  }

  /** What the store's blobs take from the current limits: the zstd level, the twins' budget. */
  private applyLimits(store: LocalStore): void {
    store.blobs.compressionLevel = this.currentLimits.compressionLevel;
    store.blobs.setTwinBudget(twinBudget(this.currentLimits.cacheSizeBytes));
  }

  /** `zccache --cleanup` / `--evict-older-than`: the budget, then the age limit, now. */
  cleanup(olderThanSecs: number | null): Record<string, unknown> {
    const store = this.store;
    if (store === null) return { evicted: 0, entries: 0, bytes: 0 };
    const limits = this.limits();
    let evicted = 0;
    if (store.totals().bytes > limits.cacheSizeBytes) evicted += store.evictTo(Math.floor(limits.cacheSizeBytes * 0.9));
    const age = olderThanSecs ?? (limits.maxAgeSecs > 0 ? limits.maxAgeSecs : null);
    if (age !== null) evicted += store.evictUnusedSince(Date.now() - age * 1000);
    this.counters.add("evicted", evicted);
    const t = store.totals();
    return { evicted, entries: t.entries, bytes: t.bytes };
  }

  close(): void {
    if (this.persistTimer !== null) clearInterval(this.persistTimer);
    this.remotes.close();
    usePersistentMemo(null);
    this.persist();
    this.closeRetired();
    try {
      this.store?.close();
    } catch (e) {
      this.log.error(`closing the store failed: ${errorMessage(e)}`);
    }
    try {
      // Writes the history's queued rows first.
      this.history?.close();
    } catch (e) {
      this.log.error(`closing the compile history failed: ${errorMessage(e)}`);
    }
    // A verification cut short by the stop leaves its scratch directory: ours, by our pid.
    try {
      for (const name of fs.readdirSync(this.ctx.tmpDir)) {
        if (name.startsWith(`verify-${process.pid}-`)) fs.rmSync(path.join(this.ctx.tmpDir, name), { recursive: true, force: true });
      }
    } catch {
      // no tmp dir (the root is gone): nothing of ours is left there
    }
  }
}
