// The output formats of ccache's and sccache's statistics and configuration, built from our
// status report and settings: `-s`, `--print-stats`, `-x`, `-p`, sccache's JSON.
// The reason lists come from stats/outcomes.ts (data only), so a new reason lands in its category.
import { ERROR_REASONS, MISS_REASONS } from "../stats/outcomes.ts";

const ERROR_NAMES: ReadonlySet<string> = new Set(ERROR_REASONS);
const MISS_NAMES: ReadonlySet<string> = new Set(MISS_REASONS);

export interface ConfigEntry {
  readonly key: string;
  readonly value: string;
  readonly source: "default" | "file" | "env";
}

/** ccache's human size: decimal units, one decimal, kB at the least. */
export function humanSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function reasonsOf(s: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(record(s.reasons))) out[k] = num(v);
  return out;
}

function remotesOf(s: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(s.remote_storage) ? s.remote_storage.map(record) : [];
}

function sumRemote(s: Record<string, unknown>, field: string): number {
  return remotesOf(s).reduce((n, r) => n + num(r[field]), 0);
}

/**
 * Our uncacheable and error reasons onto ccache 4.7's counter names. ccache counts a few
 * things we never see (autoconf tests, preprocessor failures, modules, PCH refusals,
 * recaches) and we count a few it has no name for (racy inputs, terminal hyperlinks, link
 * and archive side cases, cache-unavailable, rustc's dylib crates, …): those stay in our own
 * `zccache status` only. Every error reason we have counts as internal_error.
 */
const CCACHE_REASON_FIELDS: Readonly<Record<string, string>> = {
  link: "called_for_link",
  "compile-and-link": "called_for_link",
  "preprocess-only": "called_for_preprocessing",
  "compile-failed": "compile_failed",
  "no-output": "compiler_produced_no_output",
  "no-input": "no_input_file",
  "missing-input": "no_input_file",
  "special-output": "output_to_stdout",
  "time-macro": "unsupported_code_directive",
  "unsupported-language": "unsupported_source_language",
  "unknown-option": "unsupported_compiler_option",
  "too-hard": "unsupported_compiler_option",
  "save-temps": "unsupported_compiler_option",
  "multiple-arch": "unsupported_compiler_option",
  "unknown-compiler": "could_not_find_compiler",
};

const CCACHE_FIELDS = [
  "autoconf_test",
  "bad_compiler_arguments",
  "bad_output_file",
  "cache_miss",
  "cache_size_kibibyte",
  "called_for_link",
  "called_for_preprocessing",
  "cleanups_performed",
  "compile_failed",
  "compiler_check_failed",
  "compiler_produced_empty_output",
  "compiler_produced_no_output",
  "compiler_produced_stdout",
  "could_not_find_compiler",
  "could_not_use_modules",
  "could_not_use_precompiled_header",
  "direct_cache_hit",
  "direct_cache_miss",
  "error_hashing_extra_file",
  "files_in_cache",
  "internal_error",
  "local_storage_hit",
  "local_storage_miss",
  "local_storage_read_hit",
  "local_storage_read_miss",
  "local_storage_write",
  "missing_cache_file",
  "multiple_source_files",
  "no_input_file",
  "output_to_stdout",
  "preprocessed_cache_hit",
  "preprocessed_cache_miss",
  "preprocessor_error",
  "recache",
  "remote_storage_error",
  "remote_storage_hit",
  "remote_storage_miss",
  "remote_storage_read_hit",
  "remote_storage_read_miss",
  "remote_storage_timeout",
  "remote_storage_write",
  "stats_updated_timestamp",
  "stats_zeroed_timestamp",
  "unsupported_code_directive",
  "unsupported_compiler_option",
  "unsupported_environment_variable",
  "unsupported_source_language",
] as const;

/**
 * ccache's counters from our status. A hit found by the preprocessed text
 * (preprocessor_fallback) was a direct-mode miss first; every other hit is a direct hit. A
 * remote hit was a local miss first. Fields we do not track (read/write operation counts, cleanups,
 * timestamps: we keep no "stats updated/zeroed" time) are 0.
 */
export function ccacheCounters(s: Record<string, unknown>): Record<(typeof CCACHE_FIELDS)[number], number> {
  const c = Object.fromEntries(CCACHE_FIELDS.map((f) => [f, 0])) as Record<(typeof CCACHE_FIELDS)[number], number>;
  const hits = num(s.hits);
  const misses = num(s.misses);
  const remoteHits = num(s.remote_hits);
  const byText = num(s.preprocessed_hits);
  c.direct_cache_hit = hits - byText;
  c.direct_cache_miss = misses + byText;
  c.preprocessed_cache_hit = byText;
  c.cache_miss = misses;
  c.local_storage_hit = hits - remoteHits;
  c.local_storage_miss = misses + remoteHits;
  c.remote_storage_hit = remoteHits;
  c.remote_storage_miss = sumRemote(s, "misses");
  c.remote_storage_write = sumRemote(s, "writes");
  c.remote_storage_error = sumRemote(s, "errors");
  c.remote_storage_timeout = sumRemote(s, "timeouts");
  c.files_in_cache = num(s.entries);
  c.cache_size_kibibyte = Math.round(num(s.bytes) / 1024);
  c.internal_error = num(s.errors);
  for (const [reason, n] of Object.entries(reasonsOf(s))) {
    const field = CCACHE_REASON_FIELDS[reason] as (typeof CCACHE_FIELDS)[number] | undefined;
    if (field !== undefined) c[field] += n;
  }
  return c;
}

/** `--print-stats`: ccache's counter IDs and values, tab-separated, sorted by ID. */
export function formatPrintStats(s: Record<string, unknown>): string {
  return Object.entries(ccacheCounters(s))
    .map(([k, v]) => `${k}\t${v}\n`)
    .join("");
}

type Row = { readonly label: string; readonly text: string } | { readonly label: string; readonly n?: string; readonly of?: string; readonly pct?: string };

function pct(n: number, of: number): string {
  const p = (100 * n) / of;
  let t = p.toFixed(2);
  if (t.length > 5) t = p.toFixed(1);
  return `${t.padStart(5)}%`;
}

/** A count, and "n / total (p%)" when the total is not 0. */
function ratio(label: string, n: number, of: number): Row {
  return of === 0 ? { label, n: String(n) } : { label, n: String(n), of: String(of), pct: pct(n, of) };
}

/** Labels padded to one column, numbers right-aligned in theirs, as ccache's tables are. */
function renderTable(rows: readonly Row[]): string {
  const labelW = Math.max(...rows.map((r) => r.label.length));
  const nW = Math.max(0, ...rows.map((r) => ("n" in r && r.n !== undefined ? r.n.length : 0)));
  const ofW = Math.max(0, ...rows.map((r) => ("of" in r && r.of !== undefined ? r.of.length : 0)));
  const out = rows.map((r) => {
    if ("text" in r) return `${r.label.padEnd(labelW)} ${r.text}`.trimEnd();
    if (r.n === undefined) return r.label;
    let line = `${r.label.padEnd(labelW)} ${r.n.padStart(nW)}`;
    if (r.of !== undefined) line += ` / ${r.of.padStart(ofW)}`;
    if (r.pct !== undefined) line += ` (${r.pct})`;
    return line;
  });
  return `${out.join("\n")}\n`;
}

/**
 * `-s`: ccache 4.7's summary from our status. Lines whose count is 0 are left out unless `-vv`;
 * `-v` adds the cache directory, config file, lookups and local storage details, and lists
 * the uncacheable and error reasons by our names (ccache's categories are coarser).
 */
export function formatCcacheStats(s: Record<string, unknown>, verbosity: number, configFile: string): string {
  const rows: Row[] = [];
  const show = (n: number): boolean => n !== 0 || verbosity >= 2;
  const hits = num(s.hits);
  const misses = num(s.misses);
  const uncacheable = num(s.uncacheable);
  const errors = num(s.errors);
  const cacheable = hits + misses;
  const calls = cacheable + uncacheable + errors;
  const reasons = reasonsOf(s);
  const remoteHits = num(s.remote_hits);
  const byText = num(s.preprocessed_hits);
  if (verbosity >= 1) {
    rows.push({ label: "Cache directory:", text: String(s.cache_dir ?? "") });
    rows.push({ label: "Config file:", text: configFile });
  }
  if (show(cacheable)) {
    rows.push(ratio("Cacheable calls:", cacheable, calls));
    rows.push(ratio("  Hits:", hits, cacheable));
    // ccache splits the hits by how they were found: by the direct key, or by the text.
    rows.push(ratio("    Direct:", hits - byText, hits));
    rows.push(ratio("    Preprocessed:", byText, hits));
    rows.push(ratio("  Misses:", misses, cacheable));
  }
  const breakdown = (names: readonly string[], total: number): void => {
    if (verbosity < 1) return;
    for (const k of [...names].sort()) if (show(reasons[k] ?? 0)) rows.push(ratio(`  ${k}:`, reasons[k] ?? 0, total));
  };
  if (show(uncacheable)) {
    rows.push(ratio("Uncacheable calls:", uncacheable, calls));
    breakdown(
      Object.keys(reasons).filter((k) => !ERROR_NAMES.has(k) && !MISS_NAMES.has(k)),
      uncacheable,
    );
  }
  if (show(errors)) {
    rows.push(ratio("Errors:", errors, calls));
    breakdown(
      Object.keys(reasons).filter((k) => ERROR_NAMES.has(k)),
      errors,
    );
  }
  if (verbosity >= 1 && show(cacheable)) {
    rows.push({ label: "Successful lookups:" });
    rows.push(ratio("  Direct:", hits - byText, hits + misses));
    rows.push(ratio("  Preprocessed:", byText, byText === 0 ? 0 : byText + misses));
  }
  rows.push({ label: "Local storage:" });
  const limit = num(s.cache_size_limit_bytes);
  const bytes = num(s.bytes);
  rows.push({ label: "  Cache size (GB):", n: (bytes / 1e9).toFixed(2), of: (limit / 1e9).toFixed(2), ...(limit > 0 ? { pct: pct(bytes, limit) } : {}) });
  if (verbosity >= 1) {
    rows.push({ label: "  Files:", n: String(num(s.entries)) });
    if (show(hits - remoteHits)) rows.push(ratio("  Hits:", hits - remoteHits, cacheable));
    if (show(misses + remoteHits)) rows.push(ratio("  Misses:", misses + remoteHits, cacheable));
  }
  const remotes = remotesOf(s);
  if (remotes.length > 0) {
    const rHits = sumRemote(s, "hits");
    const rMisses = sumRemote(s, "misses");
    rows.push({ label: "Remote storage:" });
    rows.push(ratio("  Hits:", rHits, rHits + rMisses));
    rows.push(ratio("  Misses:", rMisses, rHits + rMisses));
    for (const [label, field] of [
      ["  Writes:", "writes"],
      ["  Errors:", "errors"],
      ["  Timeouts:", "timeouts"],
    ] as const) {
      const n = sumRemote(s, field);
      if (n !== 0 || verbosity >= 1) rows.push({ label, n: String(n) });
    }
  }
  return renderTable(rows);
}

/**
 * `-x`: ccache's compression summary from the store's totals (`bytes` on disk against
 * `uncompressed_bytes`). We keep no per-blob "incompressible" tally, so that line is absent.
 */
export function formatCompression(s: Record<string, unknown>): string {
  const disk = num(s.bytes);
  const level = typeof s.compression_level === "number" ? String(s.compression_level) : "unknown";
  if (typeof s.uncompressed_bytes !== "number") {
    return renderTable([
      { label: "Total data:", text: humanSize(disk) },
      { label: "Compression level:", text: level },
      { label: "Compressed data:", text: "(this daemon does not report compression statistics)" },
    ]);
  }
  const orig = s.uncompressed_bytes;
  const share = orig === 0 ? "" : ` (${((100 * disk) / orig).toFixed(1)}% of original size)`;
  const ratioText = disk === 0 ? "-" : `${(orig / disk).toFixed(3)} x  (${orig === 0 ? "0.0" : (100 - (100 * disk) / orig).toFixed(1)}% space savings)`;
  return renderTable([
    { label: "Total data:", text: humanSize(disk) },
    { label: "Compressed data:", text: `${humanSize(disk)}${share}` },
    { label: "  Original size:", text: humanSize(orig) },
    { label: "  Compression ratio:", text: ratioText },
    { label: "Compression level:", text: level },
  ]);
}

function sccacheLanguage(lang: string): string {
  if (lang === "c" || lang === "c++") return "C/C++";
  if (lang === "rust") return "Rust";
  return lang === "link" ? "Link" : "Other";
}

/** Reasons sccache would count as "not a compile" or as a compile it ran but could not cache. */
const SCCACHE_NOT_COMPILE = ["link", "compile-and-link", "archive-operation", "info-query", "no-input"];
const SCCACHE_NOT_CACHEABLE_RESULT = ["time-macro", "racy-input", "no-output"];

function duration0(): { secs: number; nanos: number } {
  return { secs: 0, nanos: 0 };
}

/**
 * `--show-stats --stats-format json`: the layout of sccache's JSON (`stats` with per-language
 * `counts`, `cache_location`, `cache_size`, `max_cache_size`). Languages: c and c++ are
 * "C/C++", rust "Rust". Durations, writes and distributed-compile fields we do not track are 0.
 */
export function formatSccacheJson(s: Record<string, unknown>): string {
  const reasons = reasonsOf(s);
  const byLang = (field: string): { counts: Record<string, number> } => {
    const counts: Record<string, number> = {};
    for (const [lang, row] of Object.entries(record(s.languages))) {
      const n = num(record(row)[field]);
      if (n > 0) counts[sccacheLanguage(lang)] = (counts[sccacheLanguage(lang)] ?? 0) + n;
    }
    return { counts };
  };
  const sumOf = (names: readonly string[]): number => names.reduce((n, k) => n + (reasons[k] ?? 0), 0);
  const hits = num(s.hits);
  const misses = num(s.misses);
  const errors = num(s.errors);
  const uncacheable = num(s.uncacheable);
  const notCompile = sumOf(SCCACHE_NOT_COMPILE);
  const unsupported = reasons["unknown-compiler"] ?? 0;
  const compileFails = reasons["compile-failed"] ?? 0;
  const nonCacheable = sumOf(SCCACHE_NOT_CACHEABLE_RESULT);
  const skip = new Set([...SCCACHE_NOT_COMPILE, ...SCCACHE_NOT_CACHEABLE_RESULT, "unknown-compiler", "compile-failed"]);
  const notCached: Record<string, number> = {};
  for (const [k, n] of Object.entries(reasons)) if (!skip.has(k) && !ERROR_NAMES.has(k) && !MISS_NAMES.has(k)) notCached[k] = n;
  const stats = {
    compile_requests: hits + misses + errors + uncacheable,
    requests_unsupported_compiler: unsupported,
    requests_not_compile: notCompile,
    requests_not_cacheable: Math.max(0, uncacheable - notCompile - unsupported - compileFails - nonCacheable),
    requests_executed: hits + misses + errors + compileFails + nonCacheable,
    cache_errors: byLang("errors"),
    cache_hits: byLang("hits"),
    cache_misses: byLang("misses"),
    cache_timeouts: sumRemote(s, "timeouts"),
    cache_read_errors: reasons["store-read-failed"] ?? 0,
    non_cacheable_compilations: nonCacheable,
    forced_recaches: 0,
    cache_write_errors: reasons["store-write-failed"] ?? 0,
    cache_writes: 0,
    cache_write_duration: duration0(),
    cache_read_hit_duration: duration0(),
    compiler_write_duration: duration0(),
    compile_fails: compileFails,
    not_cached: notCached,
    dist_compiles: {},
    dist_errors: 0,
  };
  return `${JSON.stringify({
    stats,
    cache_location: `Local disk: ${JSON.stringify(String(s.cache_dir ?? ""))}`,
    cache_size: num(s.bytes),
    max_cache_size: num(s.cache_size_limit_bytes),
  })}\n`;
}

/** `-p`: ccache's `(source) key = value`, sorted by key; a file source names the file. */
export function formatShowConfig(entries: readonly ConfigEntry[], configFile: string): string {
  const src = { default: "default", env: "environment", file: configFile } as const;
  return [...entries]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => `(${src[e.source]}) ${e.key} = ${e.value}\n`)
    .join("");
}

