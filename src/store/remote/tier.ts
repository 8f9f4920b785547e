// One configured remote: its backend, its counters, and a circuit breaker. Every operation
// is bounded by the remote's operation timeout; a timeout, or failures in a row, switch the
// remote off for a back-off period (doubling while it keeps failing), after which one
// operation probes it again. A remote can therefore cost a build at most one timeout per
// back-off period, and never an error.
import type { RemoteBackend } from "./backend.ts";
import type { RemoteSpec } from "./spec.ts";

/** Failures in a row (not timeouts: one of those is enough) that switch a remote off. */
const FAILURES_TO_OPEN = 3;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

export interface RemoteCounters {
  hits: number;
  misses: number;
  writes: number;
  errors: number;
  timeouts: number;
  /** Manifest entries refused: damaged, or not signed with the secret. */
  rejected: number;
  /** Blobs whose bytes did not match their hash. */
  corrupt: number;
  /** Writes dropped because the queue was full. */
  dropped: number;
  bytesIn: number;
  bytesOut: number;
}

export type RemoteState = "ok" | "backing-off";

export interface RemoteStatus extends RemoteCounters {
  readonly url: string;
  readonly readOnly: boolean;
  readonly state: RemoteState;
  /** When backing off: milliseconds until it is asked again. */
  readonly retryInMs: number;
  readonly lastError: string | null;
}

/** A remote that did not answer in time (an operation, or a connection that was never made). */
export class RemoteTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
  }
}

export class RemoteTier {
  readonly counters: RemoteCounters = {
    hits: 0,
    misses: 0,
    writes: 0,
    errors: 0,
    timeouts: 0,
    rejected: 0,
    corrupt: 0,
    dropped: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private failuresInRow = 0;
  private backoffMs = 0;
  private openUntilMs = 0;
  private probing = false;
  private lastError: string | null = null;

  constructor(
    readonly spec: RemoteSpec,
    private readonly backend: RemoteBackend,
    /** Hears each switch-off once (the daemon log), not every failure. */
    private readonly onSwitchOff: (message: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an operation may be tried now (closed, or the one probe after a back-off). */
  available(): boolean {
    if (this.backoffMs === 0) return true;
    if (this.now() < this.openUntilMs || this.probing) return false;
    return true;
  }

  /**
   * Runs one operation under the timeout and the breaker; null when it failed or was not
   * tried (the failure is counted here).
   */
  async run<T>(what: string, op: (b: RemoteBackend, signal: AbortSignal) => Promise<T>): Promise<{ value: T } | null> {
    if (!this.available()) return null;
    const probe = this.backoffMs > 0;
    if (probe) this.probing = true;
    const ms = this.spec.operationTimeoutMs;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new RemoteTimeout(what, ms)), ms);
    try {
      const value = await op(this.backend, ctl.signal);
      this.failuresInRow = 0;
      this.backoffMs = 0;
      return { value };
    } catch (e) {
      const timedOut = ctl.signal.aborted || e instanceof RemoteTimeout;
      if (timedOut) {
        this.counters.timeouts++;
        this.backend.close();
      } else {
        this.counters.errors++;
      }
      const reason = ctl.signal.aborted ? ctl.signal.reason : e;
      this.lastError = reason instanceof RemoteTimeout ? reason.message : `${what}: ${reason instanceof Error ? reason.message : String(reason)}`;
      this.failuresInRow++;
      if (probe || timedOut || this.failuresInRow >= FAILURES_TO_OPEN) this.switchOff();
      return null;
    } finally {
      clearTimeout(timer);
      if (probe) this.probing = false;
    }
  }

  private switchOff(): void {
    this.backoffMs = this.backoffMs === 0 ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.openUntilMs = this.now() + this.backoffMs;
    this.failuresInRow = 0;
    this.onSwitchOff(`remote ${this.spec.display}: ${this.lastError ?? "failing"}; not asked for ${this.backoffMs} ms`);
  }

  status(): RemoteStatus {
    const open = this.backoffMs > 0;
    return {
      url: this.spec.display,
      readOnly: this.spec.readOnly,
      state: open ? "backing-off" : "ok",
      retryInMs: open ? Math.max(0, this.openUntilMs - this.now()) : 0,
      lastError: this.lastError,
      ...this.counters,
    };
  }

  close(): void {
    this.backend.close();
  }
}
