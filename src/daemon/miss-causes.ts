// Rolls a session's journal lines up into miss causes: each miss is paired with the causes
// the history computed for it (explain.ts's diff), named briefly, and grouped; uncacheable
// invocations are counted by reason with a sentence on how to make them cacheable.
import * as path from "node:path";
import type { MissGroup, ReasonCount, RollupCause, SessionRollup } from "../protocol/session-rollup.ts";
import type { ErrorReason, UncacheableReason } from "../stats/outcomes.ts";
import type { Cause, CauseKind } from "./explain.ts";
import type { MissRecord } from "./history.ts";
import type { JournalRecord } from "./journal.ts";

/**
 * How long after its journal line a miss's history record may be stamped. The compile
 * handler gives both the same time; the window only covers records an older daemon wrote.
 */
export const MATCH_WINDOW_MS = 1_000;

/** Past this many changed files in one miss, the rest are counted, not named. */
const MAX_FILES_NAMED = 3;

const KIND_ORDER: readonly CauseKind[] = ["compiler", "argument", "env", "cwd", "source", "header"];

export const UNCACHEABLE_ADVICE: Readonly<Record<UncacheableReason, string>> = {
  "preprocess-only": "Only preprocessing was asked for (-E and the like); that is cheap and not worth caching, so nothing needs to change.",
  "stdin-input": "The source came from standard input; write it to a file and compile the file instead.",
  "save-temps": "-save-temps writes intermediate files the cache does not track; drop it from cached builds.",
  "time-macro": "The source or a header uses __DATE__, __TIME__ or __TIMESTAMP__; remove them (or take the date from a generated header) to make it cacheable.",
  "missing-input": "An input named on the command line did not exist; fix the build so the file is there before it is compiled.",
  link: "A link step that zccache cannot cache as given; compile with -c and link in a separate step.",
  "unknown-compiler": "The compiler was not found or not recognised as gcc, clang, emcc or rustc; call it by such a name or a path to one.",
  "unknown-option": "An option zccache does not know was passed; remove it, or report it so it can be classified.",
  "multiple-arch": "More than one -arch was given; build each architecture in a command of its own.",
  "no-input": "No input file was given (a version or help query, for instance); there is nothing to cache.",
  "too-hard": "An option or setting makes the result impossible to predict from the inputs (e.g. -frecord-gcc-switches, -MF without -MD, a CCACHE-style env override); drop it from cached builds.",
  "unsupported-language": "The input's language is not one zccache caches; nothing to change unless the -x or file suffix is wrong.",
  "compile-failed": "The compile failed, and failures are not cached; fix the error.",
  "racy-input": "An input changed while it was being compiled; build when no editor or generator is writing the tree.",
  "no-output": "The compiler wrote no output where it was expected; check the -o path.",
  "cache-unavailable": "The cache directory could not be used; run 'zccache doctor' to see why.",
  "info-query": "A query that prints and exits (--print, --version); there is nothing to cache.",
  "test-harness": "rustc --test builds are not cached; nothing to change.",
  "dylib-crate": "dylib and cdylib crates are not cached; build an rlib or staticlib where that will do.",
  "compile-and-link": "Sources were compiled and linked in one command; compile with -c and link in a separate step.",
  "archive-operation": "Only ar's r and q operations are cached; other archive operations run directly.",
  "deploy-failed": "The link's deploy hook failed, so the result was not stored; see the daemon log.",
  "output-dir-race":
    "While the link or its deploy hook ran, a file next to its output was written by another part of the build; it runs uncached until that no longer happens (link into a directory of its own to avoid it).",
  "terminal-urls": "The compiler would print hyperlinks into debug info that records its switches; add -fdiagnostics-urls=never or drop -frecord-gcc-switches.",
  "fd-input": "An input was one of the build's own file descriptors (/dev/fd/N, a process substitution); pass a real file.",
  "side-file": "An option writes a file the cache does not track (a dump or report file); drop it from cached builds.",
  "terminal-width": "gcc would have cut its diagnostics to the terminal's width; run the build with stderr not on a terminal, or fix the warnings.",
  "special-output": "The output is not a regular file zccache may replace (/dev/null, a FIFO, '-' or the source itself); write to a regular file.",
  "prefix-output": "The prefix command (ZCCACHE_PREFIX, e.g. distcc) printed messages of its own; make it quiet.",
  "verbose-driver": "-v makes the driver print run-specific details; drop -v from cached builds.",
};

export const ERROR_ADVICE: Readonly<Record<ErrorReason, string>> = {
  "store-write-failed": "The cache could not store a result (a full or read-only disk?); see the daemon log.",
  "store-read-failed": "The cache could not read a stored result; see the daemon log.",
  "index-corrupt": "The cache index was unreadable and has been recreated.",
  internal: "An internal error; the daemon log has the details, please report it.",
  "daemon-unresponsive": "The daemon did not answer in time and the client compiled on its own; see 'zccache status'.",
  "runtime-dir-refused": "No safe runtime directory was found (see 'zccache doctor'), so no daemon could be used.",
};

/** `p` relative to `cwd` when it lies below it, else as given. */
export function shownPath(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function label(c: Cause, language: string, cwd: string): string {
  switch (c.kind) {
    case "argument": {
      const parts: string[] = [];
      if (c.added !== undefined && c.added.length > 0) parts.push(`${c.added.join(" ")} added`);
      if (c.removed !== undefined && c.removed.length > 0) parts.push(`${c.removed.join(" ")} removed`);
      return parts.length > 0 ? parts.join(", ") : c.detail;
    }
    case "env":
      return c.name === undefined ? c.detail : `environment variable ${c.name} changed`;
    case "cwd":
      return "working directory changed";
    case "source":
      return "source changed";
    case "header": {
      if (c.path === undefined) return c.detail;
      const what = `${language === "link" ? "input" : "header"} ${shownPath(c.path, cwd)}`;
      if (c.change === "now-read") return `${what} now read`;
      if (c.change === "no-longer-read") return `${what} no longer read`;
      return `${what} changed`;
    }
    case "compiler":
      return c.detail;
  }
}

/** The parts of one miss's cause, in a fixed order, so equal causes group together. */
export function missParts(reason: string | null, language: string, record: MissRecord | null, cwd: string): RollupCause[] {
  if (reason === "corrupt-entry") return [{ kind: "corrupt-entry", label: "cached entry was damaged (it has been replaced)" }];
  if (reason === "delivery-failed") return [{ kind: "delivery-failed", label: "cached outputs could not be written" }];
  if (reason === "quarantined") {
    return [{ kind: "quarantined", label: "cached entry was proved wrong by a verification (quarantined, compiled again)" }];
  }
  if (record === null || record.basis === "unknown") return [{ kind: "not-recorded", label: "cause not recorded" }];
  if (record.basis === "first") return [{ kind: "first", label: "new source/first compile" }];
  if (record.causes.length === 0) {
    return [{ kind: "unchanged", label: "inputs unchanged, cached entry gone (cleared, evicted or never stored)" }];
  }
  const sorted = record.causes
    .map((c) => ({ kind: c.kind, label: label(c, language, cwd) }))
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compare(a.label, b.label));
  // A link's inputs are objects and libraries, not headers.
  const fileKind = language === "link" ? "input" : "header";
  const parts: RollupCause[] = sorted.map((p) => (p.kind === "header" ? { kind: fileKind, label: p.label } : p));
  const files = parts.filter((p) => p.kind === fileKind);
  if (files.length + record.moreFiles <= MAX_FILES_NAMED) return parts;
  const named = files.slice(0, MAX_FILES_NAMED);
  const more = files.length + record.moreFiles - named.length;
  return [...parts.filter((p) => p.kind !== fileKind), ...named, { kind: fileKind, label: `${more} more ${fileKind}${more === 1 ? "" : "s"} changed` }];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Pairs each miss line with its history record: the first not yet taken for the same output
 * stamped at or after the line (records come in the order their lines were written).
 */
export function pairMisses(lines: readonly JournalRecord[], records: readonly MissRecord[]): (MissRecord | null)[] {
  const queues = new Map<string, MissRecord[]>();
  for (const r of records) {
    const q = queues.get(r.output);
    if (q === undefined) queues.set(r.output, [r]);
    else q.push(r);
  }
  return lines.map((line) => {
    if (line.outcome !== "miss" || line.output === null) return null;
    const q = queues.get(line.output);
    if (q === undefined) return null;
    while (q.length > 0 && (q[0] as MissRecord).atMs < line.atMs) q.shift();
    const next = q[0];
    if (next === undefined || next.atMs - line.atMs > MATCH_WINDOW_MS) return null;
    q.shift();
    return next;
  });
}

function countReasons<R extends string>(reasons: readonly R[], advice: Readonly<Record<string, string>>): ReasonCount[] {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .map(([reason, count]) => ({ reason, count, advice: advice[reason] ?? "" }))
    .sort((a, b) => b.count - a.count || compare(a.reason, b.reason));
}

/** The rollup of one session's journal lines (in journal order), given the miss log around them. */
export function rollUp(id: string, lines: readonly JournalRecord[], records: readonly MissRecord[], cwd: string): SessionRollup {
  const paired = pairMisses(lines, records);
  const groups = new Map<string, { parts: RollupCause[]; outputs: string[]; count: number }>();
  const uncacheable: string[] = [];
  const errors: string[] = [];
  let hits = 0;
  lines.forEach((line, i) => {
    switch (line.outcome) {
      case "hit":
      case "remote-hit":
        hits++;
        return;
      case "uncacheable":
        uncacheable.push(line.reason ?? "unknown");
        return;
      case "error":
        errors.push(line.reason ?? "unknown");
        return;
      case "miss":
        break;
      default:
        return;
    }
    const parts = missParts(line.reason, line.language, paired[i] ?? null, cwd);
    const key = parts.map((p) => p.label).join(" + ");
    let g = groups.get(key);
    if (g === undefined) {
      g = { parts, outputs: [], count: 0 };
      groups.set(key, g);
    }
    g.count++;
    if (line.output !== null) g.outputs.push(line.output);
  });
  const missCauses: MissGroup[] = [...groups]
    .map(([cause, g]) => ({ count: g.count, cause, parts: g.parts, outputs: g.outputs }))
    .sort((a, b) => b.count - a.count || compare(a.cause, b.cause));
  return {
    session_id: id,
    invocations: lines.length,
    hits,
    misses: missCauses.reduce((n, g) => n + g.count, 0),
    uncacheable: uncacheable.length,
    errors: errors.length,
    miss_causes: missCauses,
    uncacheable_reasons: countReasons(uncacheable, UNCACHEABLE_ADVICE),
    error_reasons: countReasons(errors, ERROR_ADVICE),
  };
}
