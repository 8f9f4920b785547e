// The body of an explain-session report: a session's outcomes and its misses grouped by
// cause, the largest group first. Shared by the daemon (which builds it) and the client.

/** One part of a miss's cause, e.g. {kind: "header", label: "header inc/a.h changed"}. */
export interface RollupCause {
  /** compiler, argument, env, cwd, source, header, input, or a kind that needs no diff: first, unchanged, not-recorded, corrupt-entry, delivery-failed. */
  readonly kind: string;
  /** What the user reads: the file relative to the asking cwd when below it, the arguments, the variable. */
  readonly label: string;
}

/** The misses that share one cause (every part of it). */
export interface MissGroup {
  readonly count: number;
  /** The parts' labels joined with " + ". */
  readonly cause: string;
  readonly parts: readonly RollupCause[];
  /** The outputs that missed for it, in journal order. */
  readonly outputs: readonly string[];
}

export interface ReasonCount {
  readonly reason: string;
  readonly count: number;
  /** For an uncacheable reason: how to make such invocations cacheable, or why not to bother. */
  readonly advice: string;
}

export interface SessionRollup {
  readonly session_id: string;
  readonly invocations: number;
  readonly hits: number;
  readonly misses: number;
  readonly uncacheable: number;
  readonly errors: number;
  readonly miss_causes: readonly MissGroup[];
  readonly uncacheable_reasons: readonly ReasonCount[];
  readonly error_reasons: readonly ReasonCount[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list<T>(v: unknown, item: (x: Record<string, unknown>) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const x of v) {
    const decoded = isRecord(x) ? item(x) : null;
    if (decoded === null) return null;
    out.push(decoded);
  }
  return out;
}

const cause = (x: Record<string, unknown>): RollupCause | null =>
  typeof x.kind === "string" && typeof x.label === "string" ? { kind: x.kind, label: x.label } : null;

function group(x: Record<string, unknown>): MissGroup | null {
  const parts = list(x.parts, cause);
  const outputs = Array.isArray(x.outputs) && x.outputs.every((o) => typeof o === "string") ? (x.outputs as string[]) : null;
  if (typeof x.count !== "number" || typeof x.cause !== "string" || parts === null || outputs === null) return null;
  return { count: x.count, cause: x.cause, parts, outputs };
}

const reason = (x: Record<string, unknown>): ReasonCount | null =>
  typeof x.reason === "string" && typeof x.count === "number" && typeof x.advice === "string" ? { reason: x.reason, count: x.count, advice: x.advice } : null;

/** The report checked at the client's boundary; null when it is not a rollup. */
export function decodeRollup(raw: Record<string, unknown>): SessionRollup | null {
  const { session_id, invocations, hits, misses, uncacheable, errors } = raw;
  const missCauses = list(raw.miss_causes, group);
  const uncacheableReasons = list(raw.uncacheable_reasons, reason);
  const errorReasons = list(raw.error_reasons, reason);
  if (typeof session_id !== "string" || missCauses === null || uncacheableReasons === null || errorReasons === null) return null;
  if (typeof invocations !== "number" || typeof hits !== "number" || typeof misses !== "number") return null;
  if (typeof uncacheable !== "number" || typeof errors !== "number") return null;
  return {
    session_id,
    invocations,
    hits,
    misses,
    uncacheable,
    errors,
    miss_causes: missCauses,
    uncacheable_reasons: uncacheableReasons,
    error_reasons: errorReasons,
  };
}
