// The human-readable `zccache verify --session` report and its exit code.
import * as path from "node:path";
import { decodeVerifyReport, type VerifyReport, type VerifyStatus, verifyCounts } from "../protocol/verify-report.ts";

export { decodeVerifyReport };

const LABELS: Readonly<Record<VerifyStatus, string>> = {
  ok: "ok",
  mismatch: "MISMATCH",
  nondeterministic: "nondeterministic",
  skipped: "skipped",
};

/** `p` relative to `cwd` when below it, else as is. */
function shown(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

/** One line per output ("ok  a.o", "MISMATCH  b.o: object … differs at byte 12 …"), then a summary. */
export function formatVerify(r: VerifyReport, cwd: string): string {
  const lines = r.results.map((x) => `${LABELS[x.status].padEnd(17)}${shown(x.output, cwd)}${x.detail === "" ? "" : `: ${x.detail}`}`);
  const c = verifyCounts(r);
  lines.push(
    `session ${r.session_id}: ${r.results.length} output${r.results.length === 1 ? "" : "s"} from ${r.hits} hit${r.hits === 1 ? "" : "s"}: ` +
      `${c.ok} ok, ${c.mismatch} ${c.mismatch === 0 ? "mismatched" : "MISMATCHED"}, ${c.nondeterministic} nondeterministic, ${c.skipped} skipped`,
  );
  return `${lines.join("\n")}\n`;
}

/** 1 when any output differs from what its compiler produces now, else 0. */
export function verifyExitCode(r: VerifyReport): number {
  return verifyCounts(r).mismatch > 0 ? 1 : 0;
}
