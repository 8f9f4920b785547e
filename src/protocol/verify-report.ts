// The body of a verify-session report: each output a session's hits delivered, checked
// against a fresh compile. Shared by the daemon (which builds it) and the client (which prints it).

export type VerifyStatus = "ok" | "mismatch" | "nondeterministic" | "skipped";

export interface VerifiedOutput {
  /** The output as the build named it (absolute). */
  readonly output: string;
  readonly status: VerifyStatus;
  /** What differed (mismatch, nondeterministic), or why it was not checked (skipped); "" when ok. */
  readonly detail: string;
}

export interface VerifyReport {
  readonly session_id: string;
  /** Hit lines of the session in the journal (an output hit twice is checked once). */
  readonly hits: number;
  readonly results: readonly VerifiedOutput[];
}

const STATUSES: readonly string[] = ["ok", "mismatch", "nondeterministic", "skipped"];

function isVerifyStatus(s: unknown): s is VerifyStatus {
  return typeof s === "string" && STATUSES.includes(s);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A report as the wire carries it, or null when it is malformed. */
export function decodeVerifyReport(raw: unknown): VerifyReport | null {
  if (!isRecord(raw) || typeof raw.session_id !== "string" || typeof raw.hits !== "number" || !Array.isArray(raw.results)) return null;
  const results: VerifiedOutput[] = [];
  for (const r of raw.results as unknown[]) {
    if (!isRecord(r) || typeof r.output !== "string" || typeof r.detail !== "string") return null;
    if (!isVerifyStatus(r.status)) return null;
    results.push({ output: r.output, status: r.status, detail: r.detail });
  }
  return { session_id: raw.session_id, hits: raw.hits, results };
}

/** How many results have each status. */
export function verifyCounts(r: VerifyReport): Record<VerifyStatus, number> {
  const counts: Record<VerifyStatus, number> = { ok: 0, mismatch: 0, nondeterministic: 0, skipped: 0 };
  for (const x of r.results) counts[x.status]++;
  return counts;
}
