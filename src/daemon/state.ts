// Everything one running daemon owns: config, store, counters, memo caches, activity.
import * as fs from "node:fs";
import * as path from "node:path";
import { AbsenceChecker } from "../cache/absence.ts";
import { CompilerIdentities } from "../cache/compiler-identity.ts";
import type { OutcomeDetail, PipelineContext, StatsSink } from "../cache/context.ts";
import { FileHashes } from "../cache/file-hashes.ts";
import { SystemDirs } from "../compilers/cc/search-path.ts";
import type { Config } from "../config/config.ts";
import { errorMessage } from "../platform/result.ts";
import type { Endpoint } from "../protocol/endpoint.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { Counters } from "../stats/counters.ts";
import { counterNames, type ErrorReason, type Language, type Outcome } from "../stats/outcomes.ts";
import { LocalStore } from "../store/local/local-store.ts";
import type { Store } from "../store/store.ts";
import { CompileHistory } from "./history.ts";
import { Journal } from "./journal.ts";
import { Logger } from "./logger.ts";
import { Sessions } from "./sessions.ts";

const PERSIST_INTERVAL_MS = 2_000;

export class DaemonState {
  readonly startedAtMs = Date.now();
  readonly version: string;
  readonly counters = new Counters();
  readonly store: Store | null;
  readonly storeProblem: string | null;
  readonly ctx: PipelineContext;
  readonly log: Logger;
  readonly journal: Journal;
  readonly sessions = new Sessions();
  readonly history: CompileHistory | null;
  inflight = 0;
  lastActivityMs = Date.now();
  private persistTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly ep: Endpoint,
    readonly config: Config,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    // Test-only: lets the suite stand up an "older" or "newer" daemon. Documented as such.
    this.version = env.ZCCACHE_TEST_DAEMON_VERSION || PRODUCT_VERSION;
    let store: LocalStore | null = null;
    let problem: string | null = null;
    const tmpDir = path.join(ep.cacheRoot, "tmp");
    try {
      store = new LocalStore(ep.cacheRoot, (detail) => this.ctx.stats.error("store-read-failed", detail));
      fs.rmSync(tmpDir, { recursive: true, force: true });
      fs.mkdirSync(tmpDir, { recursive: true });
      this.counters.load(store.loadCounters());
    } catch (e) {
      store?.close();
      store = null;
      problem = errorMessage(e);
    }
    this.store = store;
    this.storeProblem = problem;
    this.log = new Logger(store === null ? null : path.join(ep.cacheRoot, "logs", "daemon.log"), config.logLevel.value);
    if (store?.recreatedIndex) {
      this.log.error("index was unreadable; moved aside and recreated");
      for (const name of counterNames({ kind: "error", reason: "index-corrupt" }, "other")) this.counters.add(name, 1);
    }
    this.journal = new Journal(store === null ? null : path.join(ep.cacheRoot, "logs", "compile_journal.jsonl"));
    let history: CompileHistory | null = null;
    if (store !== null) {
      try {
        history = new CompileHistory(path.join(ep.cacheRoot, "history.sqlite"));
      } catch (e) {
        fs.rmSync(path.join(ep.cacheRoot, "history.sqlite"), { force: true });
        this.log.error(`compile history unavailable: ${errorMessage(e)}`);
      }
    }
    this.history = history;
    if (problem !== null) this.log.error(`cache unavailable: ${problem}`);
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
    this.ctx = {
      store,
      files: new FileHashes(),
      absence: new AbsenceChecker(),
      compilers: new CompilerIdentities(),
      systemDirs: new SystemDirs(),
      deliveryMode: config.delivery.value,
      tmpDir,
      stats,
    };
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

  /** Keeps the store under its budget, evicting down to 90% so eviction runs in batches. */
  private evictIfOverBudget(): void {
    if (this.store === null) return;
    const limit = this.config.cacheSizeBytes.value;
    if (this.store.totals().bytes <= limit) return;
    const n = this.store.evictTo(Math.floor(limit * 0.9));
    this.counters.add("evicted", n);
    this.log.info(`evicted ${n} entries to stay under ${limit} bytes`);
  }

  close(): void {
    if (this.persistTimer !== null) clearInterval(this.persistTimer);
    this.persist();
    try {
      this.store?.close();
      this.history?.close();
    } catch (e) {
      this.log.error(`closing the store failed: ${errorMessage(e)}`);
    }
  }
}
