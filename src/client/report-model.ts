// What the HTML report shows, computed from the daemon's answer: totals, a lane per
// invocation for the timeline (so concurrent compiles do not overlap), the slowest misses and
// the per-language and per-directory breakdowns. Pure, so the builder's tests need no daemon.
import * as path from "node:path";
import type { ReportInvocation, SessionReportData } from "../protocol/session-report.ts";

export interface Tally {
  invocations: number;
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  /** Sum of the invocations' durations. */
  busyMs: number;
  savedMs: number;
}

export interface Breakdown extends Tally {
  readonly key: string;
}

export interface ReportModel {
  /** Earliest start and latest end over the invocations (both 0 when there are none). */
  readonly fromMs: number;
  readonly toMs: number;
  readonly totals: Tally;
  /** hits / (hits + misses); null when nothing cacheable ran. */
  readonly hitRate: number | null;
  /** The timeline lane of each invocation, by index. */
  readonly lanes: readonly number[];
  readonly laneCount: number;
  /** Indices of the slowest misses, slowest first. */
  readonly slowestMisses: readonly number[];
  /** By total time, largest first. */
  readonly languages: readonly Breakdown[];
  readonly directories: readonly Breakdown[];
}

export const SLOWEST_MISSES = 15;

/** `p` relative to `cwd` when it lies below it (or is it), else as given. */
export function relativeTo(p: string, cwd: string): string {
  if (cwd === "") return p;
  const rel = path.relative(cwd, p);
  if (rel === "") return ".";
  return !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function emptyTally(): Tally {
  return { invocations: 0, hits: 0, misses: 0, uncacheable: 0, errors: 0, busyMs: 0, savedMs: 0 };
}

function add(t: Tally, inv: ReportInvocation): void {
  t.invocations++;
  t.busyMs += inv.duration_ms;
  t.savedMs += inv.saved_ms;
  if (inv.outcome === "hit" || inv.outcome === "remote-hit") t.hits++;
  else if (inv.outcome === "miss") t.misses++;
  else if (inv.outcome === "uncacheable") t.uncacheable++;
  else if (inv.outcome === "error") t.errors++;
}

function breakdown(invs: readonly ReportInvocation[], keyOf: (inv: ReportInvocation) => string): Breakdown[] {
  const by = new Map<string, Tally>();
  for (const inv of invs) {
    const key = keyOf(inv);
    let t = by.get(key);
    if (t === undefined) {
      t = emptyTally();
      by.set(key, t);
    }
    add(t, inv);
  }
  return [...by]
    .map(([key, t]) => ({ key, ...t }))
    .sort((a, b) => b.busyMs - a.busyMs || b.invocations - a.invocations || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Greedy lanes in start order: each invocation goes to the lowest lane free at its start,
 * so the number of lanes is the build's peak parallelism.
 */
export function assignLanes(invs: readonly ReportInvocation[]): { lanes: number[]; laneCount: number } {
  const order = invs.map((_, i) => i).sort((a, b) => (invs[a] as ReportInvocation).start_ms - (invs[b] as ReportInvocation).start_ms || a - b);
  const busyUntil: number[] = [];
  const lanes = new Array<number>(invs.length).fill(0);
  for (const i of order) {
    const inv = invs[i] as ReportInvocation;
    let lane = busyUntil.findIndex((end) => end <= inv.start_ms);
    if (lane < 0) lane = busyUntil.length;
    busyUntil[lane] = inv.start_ms + inv.duration_ms;
    lanes[i] = lane;
  }
  return { lanes, laneCount: busyUntil.length };
}

/** Where an invocation's work lands: its output's directory, else the directory it ran in. */
export function directoryOf(inv: ReportInvocation, cwd: string): string {
  return relativeTo(inv.output === null ? inv.cwd : path.dirname(inv.output), cwd);
}

export function buildModel(data: SessionReportData): ReportModel {
  const invs = data.invocations;
  const totals = emptyTally();
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const inv of invs) {
    add(totals, inv);
    fromMs = Math.min(fromMs, inv.start_ms);
    toMs = Math.max(toMs, inv.start_ms + inv.duration_ms);
  }
  if (invs.length === 0) fromMs = toMs = 0;
  // The rollup counts every line, also those past the timeline's limit.
  const r = data.rollup;
  const cacheable = r.hits + r.misses;
  const { lanes, laneCount } = assignLanes(invs);
  const slowestMisses = invs
    .map((inv, i) => ({ inv, i }))
    .filter((x) => x.inv.outcome === "miss")
    .sort((a, b) => b.inv.duration_ms - a.inv.duration_ms || a.i - b.i)
    .slice(0, SLOWEST_MISSES)
    .map((x) => x.i);
  return {
    fromMs,
    toMs,
    totals,
    hitRate: cacheable === 0 ? null : r.hits / cacheable,
    lanes,
    laneCount,
    slowestMisses,
    languages: breakdown(invs, (inv) => inv.language),
    directories: breakdown(invs, (inv) => directoryOf(inv, data.cwd)),
  };
}
