// Text for `zccache explain --session ID`: the session's totals, its misses grouped by cause
// (largest first), then uncacheable invocations and cache errors with what to do about them.
import type { ReasonCount, SessionRollup } from "../protocol/session-rollup.ts";

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function reasonLines(title: string, reasons: readonly ReasonCount[]): string[] {
  if (reasons.length === 0) return [];
  return [title, ...reasons.map((r) => `  ${r.count} ${r.reason}${r.advice === "" ? "" : `: ${r.advice}`}`)];
}

export function formatRollup(r: SessionRollup): string {
  const totals = [
    plural(r.invocations, "invocation", "invocations"),
    plural(r.hits, "hit", "hits"),
    plural(r.misses, "miss", "misses"),
    `${r.uncacheable} uncacheable`,
  ];
  if (r.errors > 0) totals.push(plural(r.errors, "cache error", "cache errors"));
  const lines = [`session ${r.session_id}: ${totals.join(", ")}`];
  if (r.misses > 0) lines.push("misses by cause:");
  r.miss_causes.forEach((g, i) => {
    lines.push(i === 0 ? `  ${g.count} of ${plural(r.misses, "miss", "misses")}: ${g.cause}` : `  ${g.count}: ${g.cause}`);
  });
  lines.push(...reasonLines("uncacheable:", r.uncacheable_reasons), ...reasonLines("cache errors:", r.error_reasons));
  return `${lines.join("\n")}\n`;
}
