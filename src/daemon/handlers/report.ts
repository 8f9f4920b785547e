// Answers `zccache report`: the journal lines of a session, of the last N minutes or of the
// latest session, rolled up exactly as `explain --session` does (miss-causes.ts), with every
// line and its miss cause for the client's HTML timeline. Reads the journal, not memory, so
// it works for sessions a previous daemon served.
import {
  MAX_REPORT_INVOCATIONS,
  type ReportInvocation,
  type ReportScope,
  type SessionReportData,
} from "../../protocol/session-report.ts";
import type { CompileHistory } from "../history.ts";
import { decodeRecord, journalGenerations, journalLines, type JournalRecord } from "../journal.ts";
import { MATCH_WINDOW_MS, missParts, pairMisses, rollUp } from "../miss-causes.ts";
import type { DaemonState } from "../state.ts";

/** One journal line: what the rollup reads, and what the timeline shows. */
interface Line {
  readonly record: JournalRecord;
  readonly invocation: Omit<ReportInvocation, "cause">;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function decodeLine(raw: Record<string, unknown>): Line | null {
  const record = decodeRecord(raw);
  if (record === null) return null;
  const latencyMs = Math.max(0, num(raw.latency_ms));
  const args = Array.isArray(raw.args) ? raw.args.filter((a): a is string => typeof a === "string") : [];
  return {
    record,
    invocation: {
      start_ms: record.atMs - latencyMs,
      duration_ms: latencyMs,
      outcome: record.outcome,
      reason: record.reason,
      language: record.language,
      command: [str(raw.compiler) ?? "?", ...args],
      cwd: str(raw.cwd) ?? "",
      output: record.output,
      exit_code: typeof raw.exit_code === "number" ? raw.exit_code : null,
      saved_ms: num(raw.saved_ms),
    },
  };
}

/** Every line `keep` accepts, decoded, oldest first. */
function readLines(texts: readonly string[], needle: string | null, keep: (raw: Record<string, unknown>) => boolean): Line[] {
  const out: Line[] = [];
  for (const raw of journalLines(texts, needle, keep)) {
    const l = decodeLine(raw);
    if (l !== null) out.push(l);
  }
  return out;
}

/** The session of the newest journal line that has one. */
function latestSession(texts: readonly string[]): string | null {
  for (let t = texts.length - 1; t >= 0; t--) {
    const lines = (texts[t] ?? "").split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] ?? "";
      if (!line.includes('"session":"')) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (isRecord(parsed) && typeof parsed.session === "string" && parsed.session !== "") return parsed.session;
      } catch {
        // a torn line
      }
    }
  }
  return null;
}

/** Null when the session is unknown to the journal and to this daemon (or there is no session at all). */
export function buildReport(
  scope: ReportScope,
  cwd: string,
  state: {
    readonly journal: Pick<DaemonState["journal"], "file">;
    readonly history: Pick<CompileHistory, "missesBetween"> | null;
    readonly sessions: Pick<DaemonState["sessions"], "get">;
  },
  nowMs: number = Date.now(),
): SessionReportData | null {
  const file = state.journal.file;
  const texts = file === null ? [] : journalGenerations(file);
  let resolved: SessionReportData["scope"];
  let lines: Line[];
  if (scope.kind === "minutes") {
    const fromMs = nowMs - scope.minutes * 60_000;
    resolved = scope;
    lines = readLines(texts, null, (raw) => typeof raw.ts === "string" && Date.parse(raw.ts) >= fromMs);
  } else {
    const id = scope.kind === "session" ? scope.id : latestSession(texts);
    if (id === null) return null;
    resolved = { kind: "session", id };
    lines = readLines(texts, `"session":${JSON.stringify(id)}`, (raw) => raw.session === id);
    if (lines.length === 0 && state.sessions.get(id) === undefined) return null;
  }
  const records = lines.map((l) => l.record);
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    firstMs = Math.min(firstMs, r.atMs);
    lastMs = Math.max(lastMs, r.atMs);
  }
  const misses = records.length === 0 ? [] : (state.history?.missesBetween(firstMs, lastMs + MATCH_WINDOW_MS) ?? []);
  const label = resolved.kind === "session" ? resolved.id : `last ${resolved.minutes} minute${resolved.minutes === 1 ? "" : "s"}`;
  const rollup = rollUp(label, records, misses, cwd);
  // A miss's group is found by the key rollUp groups by: its parts' labels joined with " + ".
  const groupOf = new Map(rollup.miss_causes.map((g, i) => [g.cause, i]));
  const paired = pairMisses(records, misses);
  const start = Math.max(0, lines.length - MAX_REPORT_INVOCATIONS);
  const invocations: ReportInvocation[] = [];
  for (let i = start; i < lines.length; i++) {
    const { record, invocation } = lines[i] as Line;
    let cause: number | null = null;
    if (record.outcome === "miss") {
      const key = missParts(record.reason, record.language, paired[i] ?? null, cwd)
        .map((p) => p.label)
        .join(" + ");
      cause = groupOf.get(key) ?? null;
    }
    invocations.push({ ...invocation, cause });
  }
  return { scope: resolved, rollup, invocations, omitted: start, cwd };
}
