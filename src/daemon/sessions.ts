// Build sessions: counters for the compiles that carry ZCCACHE_SESSION_ID, so a build can
// ask for its own numbers instead of the totals since forever. Held in daemon memory.
import { counterNames, type ErrorReason, type Language, type Outcome } from "../stats/outcomes.ts";
import { Counters } from "../stats/counters.ts";
import { ERROR_REASONS, MISS_REASONS, UNCACHEABLE_REASONS } from "../stats/outcomes.ts";

const MAX_SESSIONS = 1000;

export interface Session {
  readonly id: string;
  readonly startedMs: number;
  readonly journal: string | null;
  readonly counters: Counters;
  savedMs: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  start(journal: string | null): Session {
    // Sessions that were never ended must not pile up in a long-lived daemon.
    while (this.byId.size >= MAX_SESSIONS) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
    const id = `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const s: Session = { id, startedMs: Date.now(), journal, counters: new Counters(), savedMs: 0 };
    this.byId.set(id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  record(id: string | undefined, outcome: Outcome, language: Language, savedMs: number): void {
    const s = this.get(id);
    if (s === undefined) return;
    s.counters.record(outcome, language);
    s.savedMs += savedMs;
  }

  /** A cache failure during one of the session's compiles (the build itself went on). */
  recordError(id: string | undefined, reason: ErrorReason): void {
    const s = this.get(id);
    if (s === undefined) return;
    for (const name of counterNames({ kind: "error", reason }, "other")) s.counters.add(name, 1);
  }

  end(id: string): Session | undefined {
    const s = this.byId.get(id);
    this.byId.delete(id);
    return s;
  }
}

/** The report for session-stats and session-end. */
export function sessionReport(s: Session, ended: boolean): Record<string, unknown> {
  const c = s.counters;
  const reasons: Record<string, number> = {};
  for (const r of [...UNCACHEABLE_REASONS, ...MISS_REASONS, ...ERROR_REASONS]) {
    const n = c.get(`reason.${r}`);
    if (n > 0) reasons[r] = n;
  }
  const hits = c.get("hit");
  const misses = c.get("miss");
  return {
    session_id: s.id,
    ended,
    duration_secs: Math.round((Date.now() - s.startedMs) / 1000),
    hits,
    misses,
    uncacheable: c.get("uncacheable"),
    errors: c.get("error"),
    hit_rate: hits + misses === 0 ? null : hits / (hits + misses),
    time_saved_ms: Math.round(s.savedMs),
    reasons,
    journal: s.journal,
  };
}
