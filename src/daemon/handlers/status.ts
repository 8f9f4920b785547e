// Builds the status report: totals, reasons, per-language counts, store and daemon facts.
import { ERROR_REASONS, LANGUAGES, MISS_REASONS, UNCACHEABLE_REASONS, VERIFY_RESULTS } from "../../stats/outcomes.ts";
import { fingerprintsComputed } from "../../cache/fingerprint-memo.ts";
import type { DaemonState } from "../state.ts";

/** Verifications queued or running. */
function pendingVerifications(state: DaemonState): number {
  const v = state.verifier.state();
  return v.queued + (v.running ? 1 : 0);
}

export function statusReport(state: DaemonState): Record<string, unknown> {
  const c = state.counters;
  const reasons: Record<string, number> = {};
  for (const r of [...UNCACHEABLE_REASONS, ...MISS_REASONS, ...ERROR_REASONS]) {
    const n = c.get(`reason.${r}`);
    if (n > 0) reasons[r] = n;
  }
  const hints: Record<string, number> = {};
  for (const [name, n] of c.snapshot()) if (name.startsWith("hint.") && n > 0) hints[name.slice("hint.".length)] = n;
  const languages: Record<string, Record<string, number>> = {};
  for (const lang of LANGUAGES) {
    const row = {
      hits: c.get(`${lang}.hit`),
      misses: c.get(`${lang}.miss`),
      uncacheable: c.get(`${lang}.uncacheable`),
      errors: c.get(`${lang}.error`),
    };
    if (row.hits + row.misses + row.uncacheable + row.errors > 0) languages[lang] = row;
  }
  // Verified hits (verify_rate): every result, zero or not, so a script can read any of them.
  const verify: Record<string, number> = {};
  for (const r of VERIFY_RESULTS) verify[r] = c.get(`verify.${r}`);
  const totals = state.store?.totals() ?? { entries: 0, bytes: 0, uncompressedBytes: 0, plainCopyBytes: 0 };
  const limits = state.limits();
  return {
    version: state.version,
    pid: process.pid,
    uptime_secs: Math.round((Date.now() - state.startedAtMs) / 1000),
    cache_dir: state.ep.cacheRoot,
    socket: state.ep.socketPath,
    runtime_dir: state.ep.runtimeDir,
    log_file: state.log.file,
    lifecycle_log: state.lifecycle.file,
    start_reason: state.startReason,
    owners: state.owners.pids(),
    store: state.store === null ? `unavailable: ${state.storeProblem}` : "ok",
    delivery: state.delivery.mode,
    delivery_requested: state.config.delivery.value,
    delivery_note: state.delivery.note,
    idle_timeout_secs: state.config.idleTimeoutSecs.value,
    cache_size_limit_bytes: limits.cacheSizeBytes,
    max_age_secs: limits.maxAgeSecs,
    hits: c.get("hit"),
    remote_hits: c.get("hit.remote"),
    preprocessed_hits: c.get("hit.preprocessed"),
    misses: c.get("miss"),
    uncacheable: c.get("uncacheable"),
    errors: c.get("error"),
    entries: totals.entries,
    evicted: c.get("evicted"),
    bytes: totals.bytes,
    uncompressed_bytes: totals.uncompressedBytes,
    plain_copy_bytes: totals.plainCopyBytes,
    compression_level: limits.compressionLevel,
    reasons,
    hints,
    verify,
    verify_pending: pendingVerifications(state),
    quarantined: state.quarantined(),
    languages,
    remote_storage: state.remotes.status().map((r) => ({
      url: r.url,
      read_only: r.readOnly,
      state: r.state,
      retry_in_ms: r.retryInMs,
      hits: r.hits,
      misses: r.misses,
      writes: r.writes,
      errors: r.errors,
      timeouts: r.timeouts,
      rejected: r.rejected,
      corrupt: r.corrupt,
      dropped: r.dropped,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      last_error: r.lastError,
    })),
    remote_queue: state.remotes.queued(),
    toolchain_fingerprints_computed: fingerprintsComputed(),
  };
}
