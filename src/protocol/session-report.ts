// The body of a `report` answer: which journal lines were chosen, their rollup (the same one
// `explain --session` prints) and every invocation, for the client to render as HTML.
import { decodeRollup, type SessionRollup } from "./session-rollup.ts";

/** What `zccache report` covers: a session, the last N minutes of the journal, or the latest session. */
export type ReportScope =
  | { readonly kind: "session"; readonly id: string }
  | { readonly kind: "minutes"; readonly minutes: number }
  | { readonly kind: "latest" };

/** One journal line, as the report shows it. */
export interface ReportInvocation {
  /** When it started, ms since the epoch (the line's ts less its latency). */
  readonly start_ms: number;
  readonly duration_ms: number;
  /** hit, remote-hit, miss, uncacheable, error. */
  readonly outcome: string;
  readonly reason: string | null;
  readonly language: string;
  /** The compiler as the build named it, then its arguments. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly output: string | null;
  readonly exit_code: number | null;
  readonly saved_ms: number;
  /** For a miss: its group's index in the rollup's miss_causes. */
  readonly cause: number | null;
}

export interface SessionReportData {
  /** What was asked for, resolved: a "latest" request answers with the session it found. */
  readonly scope: { readonly kind: "session"; readonly id: string } | { readonly kind: "minutes"; readonly minutes: number };
  readonly rollup: SessionRollup;
  /** Oldest first; at most the newest MAX_REPORT_INVOCATIONS of them. */
  readonly invocations: readonly ReportInvocation[];
  /** Lines in the rollup that were left out of `invocations` (past the limit). */
  readonly omitted: number;
  /** The asker's cwd, which paths are shown relative to. */
  readonly cwd: string;
}

/** A report past this many invocations keeps the newest; the rollup still counts them all. */
export const MAX_REPORT_INVOCATIONS = 50_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const stringOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

function invocation(x: unknown): ReportInvocation | null {
  if (!isRecord(x)) return null;
  const { start_ms, duration_ms, outcome, reason, language, command, cwd, output, exit_code, saved_ms, cause } = x;
  if (!isNumber(start_ms) || !isNumber(duration_ms) || !isNumber(saved_ms)) return null;
  if (typeof outcome !== "string" || typeof language !== "string" || typeof cwd !== "string") return null;
  if (!stringOrNull(reason) || !stringOrNull(output)) return null;
  if (exit_code !== null && !isNumber(exit_code)) return null;
  if (cause !== null && !isNumber(cause)) return null;
  if (!Array.isArray(command) || !command.every((a) => typeof a === "string")) return null;
  return { start_ms, duration_ms, outcome, reason, language, command: command as string[], cwd, output, exit_code, saved_ms, cause };
}

function scope(x: unknown): SessionReportData["scope"] | null {
  if (!isRecord(x)) return null;
  if (x.kind === "session" && typeof x.id === "string") return { kind: "session", id: x.id };
  if (x.kind === "minutes" && isNumber(x.minutes)) return { kind: "minutes", minutes: x.minutes };
  return null;
}

/** The report checked at the client's boundary; null when it is not one. */
export function decodeSessionReport(raw: Record<string, unknown>): SessionReportData | null {
  const s = scope(raw.scope);
  const rollup = isRecord(raw.rollup) ? decodeRollup(raw.rollup) : null;
  if (s === null || rollup === null || !Array.isArray(raw.invocations) || !isNumber(raw.omitted) || typeof raw.cwd !== "string") return null;
  const invocations: ReportInvocation[] = [];
  for (const x of raw.invocations) {
    const inv = invocation(x);
    if (inv === null) return null;
    invocations.push(inv);
  }
  return { scope: s, rollup, invocations, omitted: raw.omitted, cwd: raw.cwd };
}
