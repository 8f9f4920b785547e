// `zccache report --html`: one self-contained HTML file for a session (no network, no external
// scripts, fonts or images; a Content-Security-Policy forbids them). Tables are static HTML;
// the timeline is drawn by a short inline script from a JSON block (report-page.ts).
import type { ReasonCount } from "../protocol/session-rollup.ts";
import type { ReportInvocation, SessionReportData } from "../protocol/session-report.ts";
import { type Breakdown, buildModel, type ReportModel, relativeTo } from "./report-model.ts";
import { INV_STRIDE, OUTCOME_CODES, REPORT_CSS, REPORT_SCRIPT } from "./report-page.ts";

/** Past this many rows a directory table ends in a "more" line. */
const MAX_DIRECTORIES = 30;
/** Outputs named under each miss cause; the rest are counted. */
const OUTPUTS_PER_CAUSE = 5;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> block or open a comment in it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A command line as a shell would take it back. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const secs = Math.round(ms / 1000);
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${secs % 60} s`;
}

const count = (n: number): string => n.toLocaleString("en-US");
const percent = (r: number | null): string => (r === null ? "–" : `${(r * 100).toFixed(1)}%`);
const utc = (ms: number): string => `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;

/** The data block the page script reads: numbers per invocation, strings interned once. */
function pageData(data: SessionReportData, model: ReportModel): Record<string, unknown> {
  const strs: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string | null): number => {
    if (s === null) return -1;
    let id = ids.get(s);
    if (id === undefined) {
      id = strs.length;
      strs.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const causes = data.rollup.miss_causes;
  const inv: number[] = [];
  data.invocations.forEach((x: ReportInvocation, i) => {
    const code = (OUTCOME_CODES as readonly string[]).indexOf(x.outcome);
    inv.push(
      Math.round(x.start_ms - model.fromMs),
      Math.round(x.duration_ms * 10) / 10,
      code < 0 ? OUTCOME_CODES.length - 1 : code,
      model.lanes[i] ?? 0,
      intern(shellJoin(x.command)),
      intern(x.reason),
      intern(x.cause === null ? null : (causes[x.cause]?.cause ?? null)),
      intern(x.output === null ? null : relativeTo(x.output, data.cwd)),
      intern(relativeTo(x.cwd, data.cwd)),
      x.exit_code ?? -1,
      Math.round(x.saved_ms),
    );
  });
  if (inv.length !== data.invocations.length * INV_STRIDE) throw new Error("report data block out of step with the page script");
  return { span: Math.round(model.toMs - model.fromMs), lanes: Math.max(1, model.laneCount), strs, inv };
}

function table(head: readonly string[], rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p class="note">${escapeHtml(empty)}</p>`;
  const th = head.map((h) => (h.startsWith("#") ? `<th class="n">${escapeHtml(h.slice(1))}</th>` : `<th>${escapeHtml(h)}</th>`)).join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

const n = (v: string): string => `<td class="n">${escapeHtml(v)}</td>`;
const td = (v: string, cls = ""): string => `<td${cls === "" ? "" : ` class="${cls}"`}>${escapeHtml(v)}</td>`;

function card(id: string, value: string, label: string, detail = "", main = false): string {
  const small = detail === "" ? "" : `<br><small>${escapeHtml(detail)}</small>`;
  return `<div class="card${main ? " main" : ""}" id="${id}"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span>${small}</div>`;
}

function summary(data: SessionReportData, model: ReportModel): string {
  const r = data.rollup;
  const t = model.totals;
  return `<section class="cards" id="summary">
${card("hit-rate", percent(model.hitRate), "hit rate", `${count(r.hits)} hits of ${count(r.hits + r.misses)} cacheable`, true)}
${card("time-saved", formatMs(t.savedMs), "time saved", "compile time the hits skipped", true)}
${card("invocations", count(r.invocations), "invocations")}
${card("misses", count(r.misses), "misses")}
${card("uncacheable", count(r.uncacheable), "uncacheable")}
${r.errors > 0 ? card("errors", count(r.errors), "cache errors") : ""}
${card("busy", formatMs(t.busyMs), "time in zccache", "sum of all durations")}
${card("wall", formatMs(model.toMs - model.fromMs), "wall time", "first start to last end")}
</section>`;
}

function timeline(data: SessionReportData, model: ReportModel): string {
  const byOutcome = new Map<string, number>();
  for (const x of data.invocations) {
    const o = (OUTCOME_CODES as readonly string[]).includes(x.outcome) ? x.outcome : "other";
    byOutcome.set(o, (byOutcome.get(o) ?? 0) + 1);
  }
  const legend = OUTCOME_CODES.map((o, i) => {
    const c = byOutcome.get(o) ?? 0;
    return c === 0 && o !== "hit" && o !== "miss" ? "" : `<span><i class="o${i}"></i>${escapeHtml(o)} ${count(c)}</span>`;
  }).join("");
  const zoom = [1, 4, 16, 64].map((z) => `<button type="button" data-zoom="${z}"${z === 1 ? ' class="on"' : ""}>${z}×</button>`).join("");
  const omitted =
    data.omitted > 0 ? `<p class="note">The timeline shows the newest ${count(data.invocations.length)} of ${count(data.omitted + data.invocations.length)} invocations; every table counts them all.</p>` : "";
  const lanes = model.laneCount === 1 ? "1 lane" : `${count(model.laneCount)} lanes (peak parallelism)`;
  return `<section id="timeline-section"><h2>Timeline</h2>
<p class="note">Every invocation from its start for its duration, ${lanes}; hover for the command, reason and output, click to keep it below.</p>
${omitted}<div class="legend">${legend}<span class="zoom">zoom ${zoom}</span></div>
<div id="timeline-box"><svg id="timeline" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline of ${count(data.invocations.length)} invocations"></svg></div>
<noscript><p class="note">The timeline needs JavaScript; the tables below do not.</p></noscript>
<pre id="selected" hidden></pre>
</section>`;
}

function missCauses(data: SessionReportData): string {
  const r = data.rollup;
  const rows = r.miss_causes.map((g) => {
    const shown = g.outputs.slice(0, OUTPUTS_PER_CAUSE).map((o) => relativeTo(o, data.cwd));
    const more = g.outputs.length - shown.length;
    const width = r.misses === 0 ? 0 : Math.max(1, Math.round((g.count / r.misses) * 120));
    const share = `<td class="n"><span class="bar" style="width:${width}px"></span> ${percent(r.misses === 0 ? null : g.count / r.misses)}</td>`;
    return `<tr>${n(count(g.count))}${share}${td(g.cause, "cause")}${td(shown.join(", ") + (more > 0 ? `, and ${count(more)} more` : ""))}</tr>`;
  });
  return `<section id="miss-causes"><h2>Misses by cause</h2>
${table(["#misses", "#share", "cause", "outputs"], rows, "No misses.")}
</section>`;
}

function slowest(data: SessionReportData, model: ReportModel): string {
  const rows = model.slowestMisses.map((i) => {
    const x = data.invocations[i] as ReportInvocation;
    const cause = x.cause === null ? (x.reason ?? "") : (data.rollup.miss_causes[x.cause]?.cause ?? "");
    const command = shellJoin(x.command);
    return `<tr>${n(formatMs(x.duration_ms))}${td(x.output === null ? "" : relativeTo(x.output, data.cwd))}${td(cause)}<td class="cmd" title="${escapeHtml(command)}">${escapeHtml(command)}</td></tr>`;
  });
  return `<section id="slowest-misses"><h2>Slowest misses</h2>
${table(["#time", "output", "cause", "command"], rows, "No misses.")}
</section>`;
}

function reasons(id: string, title: string, list: readonly ReasonCount[], empty: string): string {
  const rows = list.map((x) => `<tr>${n(count(x.count))}${td(x.reason, "reason")}${td(x.advice)}</tr>`);
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>
${table(["#count", "reason", "what to do"], rows, empty)}
</section>`;
}

function breakdownRows(list: readonly Breakdown[]): string[] {
  return list.map((b) => {
    const rate = b.hits + b.misses === 0 ? null : b.hits / (b.hits + b.misses);
    return `<tr>${td(b.key, "key")}${n(count(b.invocations))}${n(count(b.hits))}${n(count(b.misses))}${n(count(b.uncacheable + b.errors))}${n(percent(rate))}${n(formatMs(b.busyMs))}${n(formatMs(b.savedMs))}</tr>`;
  });
}

const BREAKDOWN_HEAD = ["#invocations", "#hits", "#misses", "#uncacheable/errors", "#hit rate", "#time", "#saved"];

function breakdowns(model: ReportModel): string {
  const dirs = model.directories.slice(0, MAX_DIRECTORIES);
  const rest = model.directories.slice(MAX_DIRECTORIES);
  const more =
    rest.length === 0
      ? ""
      : `<p class="note">and ${count(rest.length)} more directories with ${count(rest.reduce((s, b) => s + b.invocations, 0))} invocations.</p>`;
  return `<section id="languages"><h2>By language</h2>
${table(["language", ...BREAKDOWN_HEAD], breakdownRows(model.languages), "No invocations.")}
</section>
<section id="directories"><h2>By directory</h2>
<p class="note">The directory of each invocation's output (or where it ran), most time first.</p>
${table(["directory", ...BREAKDOWN_HEAD], breakdownRows(dirs), "No invocations.")}
${more}</section>`;
}

export interface RenderOptions {
  readonly version: string;
  readonly generatedAtMs: number;
}

export function renderReportHtml(data: SessionReportData, opts: RenderOptions): string {
  const model = buildModel(data);
  const what = data.scope.kind === "session" ? `session ${data.scope.id}` : `the last ${data.scope.minutes} minute${data.scope.minutes === 1 ? "" : "s"}`;
  const when = data.invocations.length === 0 ? "no invocations" : `${utc(model.fromMs)}, ${formatMs(model.toMs - model.fromMs)}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zccache report: ${escapeHtml(what)}</title>
<link rel="icon" href="data:,">
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>zccache build report</h1><p class="scope" id="scope">${escapeHtml(what)} · ${escapeHtml(when)}</p></header>
${summary(data, model)}
${timeline(data, model)}
${missCauses(data)}
${slowest(data, model)}
${reasons("uncacheable-reasons", "Uncacheable invocations", data.rollup.uncacheable_reasons, "None: every invocation was cacheable.")}
${data.rollup.errors > 0 ? reasons("error-reasons", "Cache errors", data.rollup.error_reasons, "") : ""}
${breakdowns(model)}
<footer>Written by zccache ${escapeHtml(opts.version)} at ${utc(opts.generatedAtMs)}. Paths are relative to ${escapeHtml(data.cwd)}.</footer>
<div id="tip" hidden></div>
<script type="application/json" id="zccache-data">${scriptJson(pageData(data, model))}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
