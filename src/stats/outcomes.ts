// Every outcome a request can have, each with a named reason. One union, mapped one-to-one
// onto counters, so a new reason cannot go uncounted.

export const UNCACHEABLE_REASONS = [
  "preprocess-only",
  "stdin-input",
  "save-temps",
  "time-macro",
  "missing-input",
  "link",
  "unknown-compiler",
  "unknown-option",
  "multiple-arch",
  "no-input",
  "too-hard",
  "unsupported-language",
  "compile-failed",
  "racy-input",
  "no-output",
  "cache-unavailable",
  "info-query",
  "test-harness",
  "dylib-crate",
  // links and archives
  "compile-and-link",
  "archive-operation",
  "deploy-failed",
  // a file next to a link's output changed that another job of ours, another entry or another
  // part of the build (an object, a source) wrote while the link or its deploy hook ran
  "output-dir-race",
  // C/C++ hardening: a terminal the compiler would print hyperlinks to, in a compile whose
  // debug info records the switch that asks for them; inputs that are the client's own fds
  "terminal-urls",
  "fd-input",
  "side-file",
  "terminal-width",
  // an output that is not a file we may replace (/dev/null, a fifo, "-"), or is the input
  "special-output",
  // the prefix command (distcc, icecc) wrote messages of its own into the compile's stderr
  "prefix-output",
  // -v: gcc prints the commands it runs, naming temp files that differ on every run, and
  // clang what it found on this machine (GCC and CUDA installations, missing directories)
  "verbose-driver",
] as const;
export type UncacheableReason = (typeof UNCACHEABLE_REASONS)[number];

// "quarantined": the entry that matched was proved wrong by a verification (daemon/verify.ts).
export const MISS_REASONS = ["new-source", "inputs-changed", "corrupt-entry", "delivery-failed", "quarantined"] as const;
export type MissReason = (typeof MISS_REASONS)[number];

export const ERROR_REASONS = [
  "store-write-failed",
  "store-read-failed",
  "index-corrupt",
  "internal",
  // the client heard nothing from the daemon for its deadline and compiled by itself
  "daemon-unresponsive",
  // every runtime dir candidate was a symlink, someone else's or open to others: no daemon
  "runtime-dir-refused",
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

/**
 * What a verification of a hit (verify_rate, daemon/verify.ts) found, each counted as
 * `verify.<result>`: the same bytes; different bytes (the entry is quarantined); different
 * bytes from a compile that is not reproducible (two fresh compiles differ, or the hit carried
 * a hint); not run because the queue was full; not possible for this compile (output names
 * inside the outputs, a pass-through that may write files, inputs changed meanwhile); a
 * family not verified yet (Rust, links, emcc); the fresh compile failed or could not run.
 */
export const VERIFY_RESULTS = [
  "verified",
  "verify-mismatch",
  "verify-nondeterministic",
  "verify-dropped",
  "not-verifiable",
  "verify-unsupported",
  "verify-failed",
] as const;
export type VerifyResult = (typeof VERIFY_RESULTS)[number];

// "analysis": clang-tidy and include-what-you-use runs (cache/tidy/).
export type Language = "c" | "c++" | "rust" | "link" | "analysis" | "other";
export const LANGUAGES: readonly Language[] = ["c", "c++", "rust", "link", "analysis", "other"];

/**
 * A hit; `tier: "remote"` when the entry came from remote storage (then imported locally);
 * `via: "preprocessed"` when it was found by the preprocessed text after a direct-mode miss.
 */
export interface HitOutcome {
  readonly kind: "hit";
  readonly tier?: "remote";
  readonly via?: "preprocessed";
}

export type Outcome =
  | HitOutcome
  | { readonly kind: "miss"; readonly reason: MissReason }
  | { readonly kind: "uncacheable"; readonly reason: UncacheableReason }
  | { readonly kind: "error"; readonly reason: ErrorReason };

export type OutcomeKind = Outcome["kind"];

/** The counters an outcome increments: the total, the reason, and the per-language total. */
export function counterNames(outcome: Outcome, language: Language): string[] {
  const total = `${outcome.kind}`;
  const names = [total, `${language}.${total}`];
  if (outcome.kind !== "hit") names.push(`reason.${outcome.reason}`);
  else {
    if (outcome.tier === "remote") names.push("hit.remote");
    if (outcome.via === "preprocessed") names.push("hit.preprocessed");
  }
  return names;
}

export function describeOutcome(outcome: Outcome): string {
  return outcome.kind === "hit" ? "hit" : `${outcome.kind}:${outcome.reason}`;
}
