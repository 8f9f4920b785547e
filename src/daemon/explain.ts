// What changed between two compiles of the same output: compiler, arguments, environment,
// working directory, source or a header. Pure functions over recorded CompileFacts.
import type { CompileFacts } from "../cache/context.ts";

export type CauseKind = "compiler" | "argument" | "env" | "cwd" | "source" | "header";

export interface Cause {
  readonly kind: CauseKind;
  readonly detail: string;
  /**
   * The same facts in parts, for rolling up many misses (miss-causes.ts); absent from rows
   * recorded before they existed. A file cause names the file (absolute) and how it changed.
   */
  readonly path?: string;
  readonly change?: FileChange;
  /** An argument cause: what was added and removed (a reorder has neither). */
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
  /** An environment cause: the variable. */
  readonly name?: string;
}

export type FileChange = "changed" | "now-read" | "no-longer-read";

/** Items of `a` not matched in `b`, counting repeats (multiset difference, in order). */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

export function diffFacts(prev: CompileFacts, cur: CompileFacts): Cause[] {
  const causes: Cause[] = [];
  if (prev.compiler !== cur.compiler) {
    causes.push({ kind: "compiler", detail: `compiler changed from ${prev.compiler} to ${cur.compiler}` });
  } else if (prev.compilerHash !== cur.compilerHash) {
    causes.push({ kind: "compiler", detail: `compiler binary ${cur.compiler} changed (content hash differs)` });
  }
  const removed = minus(prev.args, cur.args);
  const added = minus(cur.args, prev.args);
  if (removed.length > 0 || added.length > 0) {
    const parts = [];
    if (removed.length > 0) parts.push(`removed ${removed.join(" ")}`);
    if (added.length > 0) parts.push(`added ${added.join(" ")}`);
    causes.push({ kind: "argument", detail: `arguments changed: ${parts.join("; ")}`, added, removed });
  } else if (prev.args.join("\0") !== cur.args.join("\0")) {
    causes.push({ kind: "argument", detail: "arguments reordered" });
  }
  const envName = (p: string): string => p.slice(0, p.indexOf("="));
  const prevEnv = new Map(prev.env.map((p) => [envName(p), p.slice(p.indexOf("=") + 1)]));
  const curEnv = new Map(cur.env.map((p) => [envName(p), p.slice(p.indexOf("=") + 1)]));
  for (const name of new Set([...prevEnv.keys(), ...curEnv.keys()])) {
    const a = prevEnv.get(name);
    const b = curEnv.get(name);
    if (a === b) continue;
    const show = (v: string | undefined): string => (v === undefined ? "(unset)" : JSON.stringify(v));
    causes.push({ kind: "env", detail: `environment variable ${name} changed: ${show(a)} -> ${show(b)}`, name });
  }
  if (prev.cwd !== cur.cwd) causes.push({ kind: "cwd", detail: `working directory changed from ${prev.cwd} to ${cur.cwd}` });
  if (prev.source.path !== cur.source.path || prev.source.hash !== cur.source.hash) {
    causes.push({ kind: "source", detail: `source ${cur.source.path} changed`, path: cur.source.path, change: "changed" });
  }
  const prevDeps = new Map(prev.deps.map((d) => [d.path, d.hash]));
  const curDeps = new Map(cur.deps.map((d) => [d.path, d.hash]));
  for (const [p, h] of curDeps) {
    const before = prevDeps.get(p);
    if (before === undefined) causes.push({ kind: "header", detail: `input ${p} is now read (it was not before)`, path: p, change: "now-read" });
    else if (before !== h) causes.push({ kind: "header", detail: `input ${p} changed`, path: p, change: "changed" });
  }
  for (const p of prevDeps.keys()) {
    if (!curDeps.has(p)) causes.push({ kind: "header", detail: `input ${p} is no longer read`, path: p, change: "no-longer-read" });
  }
  return causes;
}
