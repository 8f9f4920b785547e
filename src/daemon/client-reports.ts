// Folds the outcomes clients counted on their own (see protocol/client-reports.ts) into our
// counters: at start, and before answering `status`, so a fallback shows up there.
import * as fs from "node:fs";
import * as path from "node:path";
import { CLIENT_REPORT_REASONS, CLIENT_REPORTS_FILE, type ClientReportReason } from "../protocol/client-reports.ts";
import type { Counters } from "../stats/counters.ts";

const KNOWN = new Set<string>(CLIENT_REPORT_REASONS);

function isReason(s: string): s is ClientReportReason {
  return KNOWN.has(s);
}

/** Returns how many reports were folded. Never throws: a report lost is only a count lost. */
export function foldClientReports(cacheRoot: string, counters: Counters): number {
  const file = path.join(cacheRoot, CLIENT_REPORTS_FILE);
  // Renamed first, so a client appending meanwhile starts a new file instead of losing its line.
  const taken = `${file}.${process.pid}.folding`;
  let text: string;
  try {
    if (!fs.lstatSync(file).isFile()) return 0;
    fs.renameSync(file, taken);
    text = fs.readFileSync(taken, "utf8");
    fs.rmSync(taken, { force: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const line of text.split("\n")) {
    const reason = line.trim().split(" ")[0] ?? "";
    if (!isReason(reason)) continue;
    counters.record({ kind: "error", reason }, "other");
    n++;
  }
  return n;
}
