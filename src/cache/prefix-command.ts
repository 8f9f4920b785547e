// The command a C/C++ miss runs its compile behind (ZCCACHE_PREFIX, ccache's CCACHE_PREFIX:
// distcc, icecc, a wrapper script): resolved per compile on the build's PATH. A prefix that
// cannot run, or that would start zccache again, is left out: it may speed a build up, never
// break it. It never reaches the key: the compile it wraps must produce the same outputs.
import * as path from "node:path";
import { findCompiler, isWrapper, skipRuleFor } from "../platform/compiler-path.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import { ownExecutables } from "./compiler-identity.ts";
import type { StatsSink } from "./context.ts";

export type PrefixResolution =
  | { readonly kind: "none" }
  | { readonly kind: "resolved"; readonly words: readonly string[] }
  | { readonly kind: "unusable"; readonly reason: "not-found" | "recursion"; readonly program: string };

/** The prefix words with the first one made absolute, or why they cannot be used. */
export function resolvePrefix(words: readonly string[], req: CompileRequest): PrefixResolution {
  const [program, ...rest] = words;
  if (program === undefined || program === "") return { kind: "none" };
  // The first match on PATH, as execvp would run it: a zccache there is recursion, not
  // something to step over (a ccache link is another cache, which the user may mean).
  const found = findCompiler(program, req.cwd, req.env.PATH ?? "", null);
  if (found === null) return { kind: "unusable", reason: "not-found", program };
  if (isWrapper(found, skipRuleFor(ownExecutables(req.selfExe ?? null), req.env, false))) return { kind: "unusable", reason: "recursion", program: found };
  return { kind: "resolved", words: [found, ...rest] };
}

/** Problems already reported by this daemon: a bad prefix is said once, not on every miss. */
const reported = new Set<string>();

/** The words to run before the compiler on this miss ([] when none can be used). */
export function prefixFor(words: readonly string[], req: CompileRequest, stats: StatsSink): readonly string[] {
  const r = resolvePrefix(words, req);
  if (r.kind === "resolved") return r.words;
  if (r.kind === "unusable") {
    const detail =
      r.reason === "not-found"
        ? `prefix command ${r.program} not found on the build's PATH: compiling without it`
        : `prefix command ${r.program} is zccache itself: compiling without it`;
    if (!reported.has(detail)) {
      reported.add(detail);
      stats.error("internal", detail);
    }
  }
  return [];
}

/**
 * Whether the prefix itself wrote to stderr (distcc's and icecc's own lines start with their
 * name, e.g. "distcc[1234] ERROR: …", "ICECC[77] …"): such a result is not stored, or a hit
 * would replay the wrapper's messages, on this machine or, through a remote, on others.
 */
export function prefixSpoke(stderr: Buffer, prefix: readonly string[]): boolean {
  const program = prefix[0];
  if (program === undefined || stderr.length === 0) return false;
  const name = path.basename(program).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^(${name}|distcc|icecc)[\\[:]`, "im").test(stderr.toString("utf8"));
}
