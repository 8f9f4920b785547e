// Answers `zccache explain --session ID`: the session's lines from the compile journal, each
// miss paired with the causes the history logged for it, rolled up (miss-causes.ts). Both
// files outlive the daemon, so this works for sessions a previous daemon served.
import type { SessionRollup } from "../../protocol/session-rollup.ts";
import { readSessionRecords } from "../journal.ts";
import { MATCH_WINDOW_MS, rollUp } from "../miss-causes.ts";
import type { DaemonState } from "../state.ts";

/** Null when neither the journal nor this daemon knows the session. */
export function explainSession(id: string, cwd: string, state: Pick<DaemonState, "journal" | "history" | "sessions">): SessionRollup | null {
  const file = state.journal.file;
  const lines = file === null ? [] : readSessionRecords(file, id);
  if (lines.length === 0 && state.sessions.get(id) === undefined) return null;
  const first = lines[0];
  const last = lines[lines.length - 1];
  const records = first === undefined || last === undefined ? [] : (state.history?.missesBetween(first.atMs, last.atMs + MATCH_WINDOW_MS) ?? []);
  return rollUp(id, lines, records, cwd);
}
