// Shared pieces of the benchmark: the tools compared, their fresh cache directories, how to
// clear them and read their own hit counters, and one hyperfine measurement.
import * as fs from "node:fs";
import * as path from "node:path";
import { journalGenerations, journalLines } from "../src/daemon/journal.ts";

export type Tool = "bare" | "ccache" | "sccache" | "zccache";
export const TOOLS: Tool[] = ["bare", "ccache", "sccache", "zccache"];
export type Env = Record<string, string | undefined>;

/** The single-file cases: a trivial C file and a C++ file whose time goes into heavy STL headers. */
export const SINGLE_FILES: Record<string, { file: string; text: string; compiler: string }> = {
  "trivial C": { file: "trivial.c", compiler: "gcc", text: "int twice(int x) { return 2 * x; }\n" },
  "C++ with 12 STL headers": {
    file: "stl.cpp",
    compiler: "g++",
    text: `${["vector", "string", "map", "unordered_map", "algorithm", "memory", "functional", "iostream", "sstream", "set", "thread", "regex"]
      .map((h) => `#include <${h}>`)
      .join("\n")}\nint main() { std::vector<std::string> v{"a"}; std::map<int, int> m; std::cout << v.size() + m.size(); return 0; }\n`,
  },
};

export interface Timing {
  median: number;
  min: number;
  max: number;
}

export interface Bench {
  readonly root: string;
  readonly zccache: string;
  readonly work: string;
  readonly env: Env;
  readonly dirs: Record<Exclude<Tool, "bare">, string>;
}

export function makeBench(root: string, work: string): Bench {
  const dirs = {
    ccache: path.join(work, "ccache"),
    sccache: path.join(work, "sccache"),
    zccache: path.join(work, "zccache"),
  };
  const env: Env = {
    ...process.env,
    CCACHE_DIR: dirs.ccache,
    SCCACHE_DIR: dirs.sccache,
    SCCACHE_SERVER_PORT: String(4300 + (process.pid % 1000)),
    SCCACHE_IDLE_TIMEOUT: "0",
    ZCCACHE_CACHE_DIR: dirs.zccache,
  };
  // ZCCACHE_BENCH_BIN measures another build (e.g. one from `scripts/build.sh /tmp/x`) than dist/.
  const zccache = process.env.ZCCACHE_BENCH_BIN || path.join(root, "dist", "zccache");
  return { root, zccache: path.resolve(zccache), work, env, dirs };
}

export function sh(argv: string[], env: Env = process.env, cwd?: string): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(argv, { env: env as Record<string, string>, cwd, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** The command prefix that puts a tool in front of a compiler ("" for bare). */
export function launcherFor(b: Bench, tool: Tool): string {
  return tool === "bare" ? "" : tool === "zccache" ? b.zccache : tool;
}

export function clearCommand(b: Bench, tool: Tool): string {
  switch (tool) {
    case "bare":
      return "true";
    case "ccache":
      return "ccache -C -z";
    case "sccache":
      return `sh -c 'sccache --stop-server >/dev/null 2>&1; rm -rf ${b.dirs.sccache}; sccache --start-server >/dev/null 2>&1'`;
    case "zccache":
      return `${b.zccache} clear`;
  }
}

/** Hits as the tool itself counts them. */
export function hitCount(b: Bench, tool: Tool): number {
  switch (tool) {
    case "bare":
      return 0;
    case "ccache": {
      const r = sh(["ccache", "--print-stats"], b.env);
      const m = /direct_cache_hit\t(\d+)/.exec(r.out);
      const p = /preprocessed_cache_hit\t(\d+)/.exec(r.out);
      return Number(m?.[1] ?? 0) + Number(p?.[1] ?? 0);
    }
    case "sccache": {
      const r = sh(["sccache", "--show-stats", "--stats-format", "json"], b.env);
      try {
        const j = JSON.parse(r.out) as { stats: { cache_hits: { counts: Record<string, number> } } };
        return Object.values(j.stats.cache_hits.counts).reduce((a, c) => a + c, 0);
      } catch {
        return 0;
      }
    }
    case "zccache": {
      const r = sh([b.zccache, "status", "--json"], b.env);
      return (JSON.parse(r.out) as { hits: number }).hits;
    }
  }
}

export interface HyperfineOptions {
  runs: number;
  /** Run before every measured run (then there is no warm-up); null: 3 warm-up runs. */
  prepare?: string | null;
  cwd?: string;
  env?: Env;
}

/** One hyperfine measurement without a shell (-N); milliseconds, with every measured run's time. */
export function hyperfine(b: Bench, cmd: string, o: HyperfineOptions): Timing & { times: number[] } {
  const json = path.join(b.work, "hf.json");
  const args = ["hyperfine", "-N", "--style", "none", "--runs", String(o.runs), "--export-json", json];
  if (o.prepare !== undefined && o.prepare !== null) args.push("--prepare", o.prepare);
  else args.push("--warmup", "3");
  args.push(cmd);
  const r = sh(args, o.env ?? b.env, o.cwd ?? b.work);
  if (r.code !== 0) throw new Error(`hyperfine failed for ${cmd}: ${r.err}`);
  const res = JSON.parse(fs.readFileSync(json, "utf8")).results[0] as Timing & { times: number[] };
  return { median: res.median * 1000, min: res.min * 1000, max: res.max * 1000, times: res.times.map((t) => t * 1000) };
}

/**
 * The daemon's own time for zccache's hits of `file` since `sinceMs` (Date.now()): the
 * `latency_ms` its compile journal records for each compile, from after the request was
 * decoded to its result (decoding, the journal line and writing the reply are not in it, nor
 * the client's start). Every hit counts, warm-up runs included. Both journal generations are
 * read; a torn line is skipped. Null when there are none.
 */
export function daemonHitMs(b: Bench, file: string, sinceMs: number): Timing | null {
  const logs = path.join(b.dirs.zccache, "logs", "compile_journal.jsonl");
  const ms = journalLines(journalGenerations(logs), file, (e) => {
    const ts = typeof e.ts === "string" ? Date.parse(e.ts) : Number.NaN;
    return e.outcome === "hit" && ts >= sinceMs && Array.isArray(e.args) && e.args.includes(file) && typeof e.latency_ms === "number";
  }).map((e) => e.latency_ms as number);
  return ms.length === 0 ? null : timingOf(ms);
}

/** Median (of an even count, the mean of the middle two), min and max of some timings, ms. */
export function timingOf(times: readonly number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error("no timings");
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** Sets a file's times into the past: zccache does not store inputs written in the last ~2 s. */
export function backdate(file: string): void {
  const t = new Date(Date.now() - 60_000);
  fs.utimesSync(file, t, t);
}
