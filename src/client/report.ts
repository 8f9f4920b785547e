// `zccache report [ID | --minutes N] --html FILE [--open]`: its arguments, and writing the
// daemon's answer as one HTML file. Loaded only by this command.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { err, errorMessage, ok, type Result } from "../platform/result.ts";
import { decodeSessionReport, type ReportScope } from "../protocol/session-report.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { renderReportHtml } from "./report-html.ts";

export interface ReportArgs {
  readonly scope: ReportScope;
  /** Absolute. */
  readonly htmlFile: string;
  /** Print where the file is (no browser is started). */
  readonly open: boolean;
}

/** The value of `--name VALUE` or `--name=VALUE` at args[i], and how many args it took. */
function optionValue(args: readonly string[], i: number, name: string): { value: string | undefined; used: number } | null {
  const a = args[i] ?? "";
  if (a === name) return { value: args[i + 1], used: 2 };
  if (a.startsWith(`${name}=`)) return { value: a.slice(name.length + 1), used: 1 };
  return null;
}

export function parseReportArgs(args: readonly string[], cwd: string): Result<ReportArgs, string> {
  let id: string | null = null;
  let minutes: number | null = null;
  let html: string | null = null;
  let open = false;
  for (let i = 0; i < args.length; ) {
    const a = args[i] ?? "";
    const h = optionValue(args, i, "--html");
    const m = optionValue(args, i, "--minutes");
    if (h !== null) {
      if (h.value === undefined || h.value === "") return err("report: --html needs a file name");
      if (html !== null) return err("report: --html given twice");
      html = h.value;
      i += h.used;
    } else if (m !== null) {
      const v = m.value ?? "";
      const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
      if (!(n > 0)) return err(`report: --minutes needs a positive number of minutes, not '${v}'`);
      if (minutes !== null) return err("report: --minutes given twice");
      minutes = n;
      i += m.used;
    } else if (a === "--open") {
      open = true;
      i++;
    } else if (a.startsWith("-")) {
      return err(`report: unknown option '${a}'`);
    } else {
      if (id !== null) return err(`report: one session ID only, not '${id}' and '${a}'`);
      id = a;
      i++;
    }
  }
  if (html === null) return err("report: --html FILE is required");
  if (id !== null && minutes !== null) return err("report: give a session ID or --minutes N, not both");
  const scope: ReportScope = id !== null ? { kind: "session", id } : minutes !== null ? { kind: "minutes", minutes } : { kind: "latest" };
  return ok({ scope, htmlFile: path.resolve(cwd, html), open });
}

/** Writes the daemon's answer (null: no such session) to the file; the exit code. */
export function writeReport(raw: Record<string, unknown> | null, args: ReportArgs): number {
  if (raw === null) {
    const why =
      args.scope.kind === "session"
        ? `no session ${args.scope.id} in the compile journal (never started, or rotated out)`
        : "no session in the compile journal; give a session ID or --minutes N";
    process.stderr.write(`zccache: report: ${why}\n`);
    return 1;
  }
  const data = decodeSessionReport(raw);
  if (data === null) {
    process.stderr.write("zccache: report: the daemon's answer was malformed\n");
    return 1;
  }
  const html = renderReportHtml(data, { version: PRODUCT_VERSION, generatedAtMs: Date.now() });
  // Renamed into place, so a browser reloading the file never sees half of it.
  const tmp = `${args.htmlFile}.tmp.${process.pid}`;
  try {
    fs.writeFileSync(tmp, html);
    fs.renameSync(tmp, args.htmlFile);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    process.stderr.write(`zccache: report: cannot write ${args.htmlFile}: ${errorMessage(e)}\n`);
    return 1;
  }
  if (args.open) process.stdout.write(`${pathToFileURL(args.htmlFile).href}\n`);
  return 0;
}
