// The paths a C/C++ miss records besides the headers the depfile names: where a new file
// would be read instead (shadow probes), and the precompiled headers the compiler may pick
// up silently. Each becomes an input when it exists and an absence probe when it does not.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CcFamily } from "../compilers/family.ts";
import {
  clangImplicitPch,
  forcedIncludes,
  gchCandidates,
  includeSpellings,
  parsePchTrace,
  pchTraceArgs,
  searchCandidates,
} from "../compilers/cc/pch.ts";
import { shadowProbes } from "../compilers/cc/search-path.ts";
import { runCapture } from "../platform/exec.ts";
import { dirOf, joinPhysical } from "../platform/paths.ts";
import { changedSince, newestChangeNs, snapshotOf } from "../platform/fsx.ts";
import type { DepRecord } from "../store/store.ts";
import { probeState } from "./absence.ts";
import { type FileHashes, listingHash } from "./file-hashes.ts";

export interface ProbeRequest {
  readonly family: CcFamily;
  readonly compilerPath: string;
  /** The job's arguments as the compiler gets them, and the model of them we search by. */
  readonly args: readonly string[];
  readonly modelArgs: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly sourceAbs: string;
  readonly headers: ReadonlyMap<string, ReadonlySet<string> | null>;
  readonly order: readonly string[];
  readonly systemDirs: readonly string[];
  readonly files: FileHashes;
}

export type ProbeList = { readonly ok: true; readonly probes: string[] } | { readonly ok: false; readonly why: "too-hard" };

/**
 * gcc looks for an -include/-imacros file in its working directory before the quote
 * chain: a new file there would be read instead.
 */
function forcedIncludeProbes(args: readonly string[], cwd: string): string[] {
  return forcedIncludes(args)
    .filter((v) => !v.startsWith("/"))
    .map((v) => path.resolve(cwd, v));
}

/**
 * Every path where a file tested with `__has_include` would be found: if one appears (or
 * goes), the test's answer may change. Null when a test names its file through a macro.
 */
function hasIncludeProbes(r: ProbeRequest): string[] | null {
  const out: string[] = [];
  for (const file of [r.sourceAbs, ...r.headers.keys()]) {
    const tests = r.files.facts(file)?.hasIncludes ?? null;
    if (tests === null) continue;
    if (tests.unreadable) return null;
    out.push(...searchCandidates(tests.spelled, [dirOf(file), ...r.order]));
  }
  return out;
}

export async function ccProbes(r: ProbeRequest): Promise<ProbeList> {
  const shadows = shadowProbes(r.headers, r.order, r.systemDirs);
  const tested = hasIncludeProbes(r);
  if (tested === null) return { ok: false, why: "too-hard" };
  const probes = [...shadows, ...forcedIncludeProbes(r.modelArgs, r.cwd), ...tested];
  if (r.family !== "gcc") {
    // clang's PCH records its inputs' mtimes and fails when one is touched: no content
    // hash can stand for that, so a compile that would use one is not cached.
    const implicit = clangImplicitPch(r.modelArgs, r.cwd);
    if (implicit.some((p) => probeState(p) === "present")) return { ok: false, why: "too-hard" };
    return { ok: true, probes: [...probes, ...implicit] };
  }
  let source: string;
  try {
    source = fs.readFileSync(r.sourceAbs, "latin1");
  } catch {
    return { ok: false, why: "too-hard" };
  }
  const spellings = includeSpellings(source);
  // gcc uses a PCH only for an include of the main file (or an -include), so the spellings
  // of those in every searched directory cover every earlier directory too; the .gch beside
  // each recorded header is checked as well, which costs one name in a directory we probe.
  const gch = [
    ...gchCandidates([...spellings.spelled, ...forcedIncludes(r.modelArgs)], [r.cwd, ...r.order]),
    ...[...r.headers.keys()].map((p) => `${p}.gch`),
  ];
  if (spellings.unreadable) {
    // Only the compiler can say which file a computed include names: ask it which PCHs it considered.
    const trace = await runCapture([r.compilerPath, ...pchTraceArgs(r.args)], { cwd: r.cwd, env: { ...r.env } });
    if (trace.exitCode !== 0) return { ok: false, why: "too-hard" };
    for (const used of parsePchTrace(trace.stderr.toString("utf8"))) {
      const abs = joinPhysical(r.cwd, used);
      const header = abs.replace(/\.gch$/, "");
      gch.push(abs, ...shadowProbes(new Map([[header, null]]), r.order, r.systemDirs).flatMap((p) => [p, `${p}.gch`]));
    }
  }
  return { ok: true, probes: [...new Set([...probes, ...gch])] };
}

/**
 * A probe path that exists: its content (every file of a .gch directory, and the names in
 * it) as inputs. Null when something changed since the compile started.
 */
export function presentInputs(p: string, files: FileHashes, startNs: bigint): DepRecord[] | null {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  if (st === undefined || changedSince(snapshotOf(st), startNs)) return null;
  if (!st.isDirectory()) {
    const f = files.facts(p);
    return f === null ? null : [{ path: p, hash: f.hash }];
  }
  if (newestChangeNs(st) >= startNs) return null;
  const listing = listingHash(`${p}/`);
  if (listing === null) return null;
  const out: DepRecord[] = [{ path: `${p}/`, hash: listing }];
  for (const name of fs.readdirSync(p)) {
    const child = `${p}/${name}`;
    const cst = fs.statSync(child, { bigint: true, throwIfNoEntry: false });
    if (cst === undefined || cst.isDirectory()) continue;
    const f = files.facts(child);
    if (f === null || changedSince(f.snapshot, startNs)) return null;
    out.push({ path: child, hash: f.hash });
  }
  return out;
}
