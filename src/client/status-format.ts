// The human-readable status summary.
function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function age(secs: number): string {
  for (const [unit, n] of [["w", 604_800], ["d", 86_400], ["h", 3600], ["m", 60]] as const) if (secs % n === 0) return `${secs / n}${unit}`;
  return `${secs}s`;
}

/** "zstd level 1, 3.1 MiB on disk for 8.2 MiB (ratio 2.65, 5.1 MiB saved)" or "off". */
function compression(s: Record<string, unknown>): string {
  const level = num(s.compression_level);
  const disk = num(s.bytes);
  const raw = num(s.uncompressed_bytes);
  const ratio = disk > 0 && raw > 0 ? ` (ratio ${(raw / disk).toFixed(2)}, ${bytes(Math.max(0, raw - disk))} saved)` : "";
  const copies = num(s.plain_copy_bytes) > 0 ? `; plain copies of big blobs delivered again: ${bytes(num(s.plain_copy_bytes))}` : "";
  return `${level === 0 ? "off for new entries" : `zstd level ${level}`}, ${bytes(disk)} on disk for ${bytes(raw)}${ratio}${copies}`;
}

const START_REASONS: Record<string, string> = { auto: "auto (spawned by a compile or command)", start: "start (zccache start)" };

/** Why this daemon started and, for a private daemon, the processes it lives for. */
function daemonLines(s: Record<string, unknown>): string[] {
  const lines: string[] = [];
  if (typeof s.start_reason === "string") lines.push(`started       ${START_REASONS[s.start_reason] ?? s.start_reason}`);
  const owners = Array.isArray(s.owners) ? s.owners : [];
  if (owners.length > 0) lines.push(`owners        ${owners.join(", ")} (the daemon exits once all have exited)`);
  return lines;
}

/** " (N from remote storage, M by preprocessed text)", or "" when every hit was local and direct. */
function hitSources(s: Record<string, unknown>): string {
  const parts = [
    ...(num(s.remote_hits) > 0 ? [`${num(s.remote_hits)} from remote storage`] : []),
    ...(num(s.preprocessed_hits) > 0 ? [`${num(s.preprocessed_hits)} by preprocessed text`] : []),
  ];
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/**
 * Verified hits (verify_rate), once anything was asked of the verifier: "verified 12, 1
 * MISMATCH, …", the entries quarantined, and what is still to run.
 */
function verifyLines(s: Record<string, unknown>): string[] {
  const v = (s.verify ?? {}) as Record<string, unknown>;
  const n = (k: string): number => num(v[k]);
  const asked = Object.keys(v).reduce((sum, k) => sum + n(k), 0);
  if (asked === 0 && num(s.quarantined) === 0 && num(s.verify_pending) === 0) return [];
  const parts = [
    `${n("verified")} verified`,
    `${n("verify-mismatch")} ${n("verify-mismatch") === 0 ? "mismatches" : "MISMATCHED"}`,
    `${n("verify-nondeterministic")} nondeterministic`,
    `${n("verify-dropped")} dropped`,
    `${n("not-verifiable")} not verifiable`,
    ...(n("verify-unsupported") > 0 ? [`${n("verify-unsupported")} not supported yet (Rust, links, emcc)`] : []),
    ...(n("verify-failed") > 0 ? [`${n("verify-failed")} failed to run`] : []),
    ...(num(s.verify_pending) > 0 ? [`${num(s.verify_pending)} pending`] : []),
  ];
  const lines = [`verify        ${parts.join(", ")}`];
  if (num(s.quarantined) > 0) lines.push(`quarantined   ${num(s.quarantined)} entries (proved wrong; never served again)`);
  return lines;
}

export function formatStatus(s: Record<string, unknown>): string {
  const hits = num(s.hits);
  const misses = num(s.misses);
  const lookups = hits + misses;
  const rate = lookups === 0 ? "-" : `${((100 * hits) / lookups).toFixed(1)}%`;
  const lines = [
    `zccache ${String(s.version)} (pid ${num(s.pid)}, up ${num(s.uptime_secs)} s)`,
    ...daemonLines(s),
    `cache dir     ${String(s.cache_dir)}`,
    `store         ${String(s.store)}, ${num(s.entries)} entries, ${bytes(num(s.bytes))} of ${bytes(num(s.cache_size_limit_bytes))}` +
      `${num(s.max_age_secs) > 0 ? `, entries unused for ${age(num(s.max_age_secs))} evicted` : ""}`,
    `compression   ${compression(s)}`,
    `delivery      ${String(s.delivery)}${typeof s.delivery_note === "string" ? ` (${s.delivery_note})` : ""}`,
    `hits          ${hits}${hitSources(s)}`,
    `misses        ${misses}`,
    `hit rate      ${rate}`,
    `uncacheable   ${num(s.uncacheable)}`,
    `errors        ${num(s.errors)}`,
  ];
  const reasons = (s.reasons ?? {}) as Record<string, number>;
  const keys = Object.keys(reasons).sort((a, b) => (reasons[b] ?? 0) - (reasons[a] ?? 0));
  if (keys.length > 0) {
    lines.push("reasons");
    for (const k of keys) lines.push(`  ${k.padEnd(22)}${reasons[k]}`);
  }
  const hints = (s.hints ?? {}) as Record<string, number>;
  const hintKeys = Object.keys(hints).sort();
  if (hintKeys.length > 0) {
    lines.push("hints (cached, but not reproducible bit for bit)");
    for (const k of hintKeys) lines.push(`  ${k.padEnd(22)}${hints[k]}`);
  }
  lines.push(...verifyLines(s));
  const remotes = Array.isArray(s.remote_storage) ? (s.remote_storage as Record<string, unknown>[]) : [];
  for (const r of remotes) {
    const state = r.state === "ok" ? "ok" : `backing off (asked again in ${Math.ceil(num(r.retry_in_ms) / 1000)} s)`;
    lines.push(`remote        ${String(r.url)}${r.read_only === true ? " (read-only)" : ""}: ${state}`);
    lines.push(
      `  hits ${num(r.hits)}, misses ${num(r.misses)}, writes ${num(r.writes)}, errors ${num(r.errors)}, timeouts ${num(r.timeouts)}, ` +
        `in ${bytes(num(r.bytes_in))}, out ${bytes(num(r.bytes_out))}`,
    );
    const refused = num(r.rejected) + num(r.corrupt) + num(r.dropped);
    if (refused > 0) lines.push(`  refused ${num(r.rejected)} manifest entries, ${num(r.corrupt)} damaged blobs; dropped ${num(r.dropped)} writes`);
    if (r.state !== "ok" && typeof r.last_error === "string") lines.push(`  last error: ${r.last_error}`);
  }
  if (s.log_file) lines.push(`log           ${String(s.log_file)}`);
  return `${lines.join("\n")}\n`;
}

export function formatSession(s: Record<string, unknown>): string {
  const hits = num(s.hits);
  const misses = num(s.misses);
  const lines = [
    `session ${String(s.session_id)}${s.ended ? " (ended)" : ""}, ${num(s.duration_secs)} s`,
    `hits          ${hits}${num(s.remote_hits) > 0 ? ` (${num(s.remote_hits)} from remote storage)` : ""}`,
    `misses        ${misses}`,
    `hit rate      ${hits + misses === 0 ? "-" : `${((100 * hits) / (hits + misses)).toFixed(1)}%`}`,
    `uncacheable   ${num(s.uncacheable)}`,
    `errors        ${num(s.errors)}`,
    `time saved    ${(num(s.time_saved_ms) / 1000).toFixed(2)} s`,
  ];
  const reasons = (s.reasons ?? {}) as Record<string, number>;
  for (const k of Object.keys(reasons).sort()) lines.push(`  ${k.padEnd(22)}${reasons[k]}`);
  return `${lines.join("\n")}\n`;
}

export function formatExplain(r: Record<string, unknown>): string {
  const lines = [`${String(r.output)}: ${String(r.summary)}`, `  last compile: ${String(r.at)}`];
  const causes = Array.isArray(r.causes) ? (r.causes as { detail: string }[]) : [];
  for (const c of causes) lines.push(`  - ${c.detail}`);
  return `${lines.join("\n")}\n`;
}
