// The second-level lookup (preprocessor_fallback, ccache's preprocessor mode): when no entry
// of a C/C++ compile's direct key is valid, preprocess it and look the result up by the
// preprocessed text. Compiles whose options differ only in what preprocessing alone consumes
// (-D, -I, -include, …) and that produce the same text share an object. A hit found this way
// is delivered, then recorded under the direct key as an ordinary entry (its inputs from the
// preprocessing run), so the next build hits directly.
import * as fs from "node:fs";
import { outputPathFor } from "../compilers/cc/args.ts";
import { targetOptions } from "../compilers/cc/depfile-template.ts";
import { isAssembler, isPreprocessed } from "../compilers/cc/args.ts";
import { clangImplicitPch, parsePchTrace } from "../compilers/cc/pch.ts";
import { type CcKeyInputs, ccHeadersAfterRun, ccKeyFields, ccRunPlan, withoutOutputOptions } from "../compilers/cc/plan.ts";
import { portableArgs, remapArgs } from "../compilers/cc/relocate.ts";
import { parseDepfile } from "../compilers/cc/depfile.ts";
import { joinPhysical } from "../platform/paths.ts";
import { type Captured, runCapture } from "../platform/exec.ts";
import { readIfExists, removeQuietly } from "../platform/fsx.ts";
import { scratchPath } from "./scratch.ts";
import { sha256Hex } from "../platform/hash.ts";
import { compilerCwd } from "../platform/relative-paths.ts";
import type { HitOutcome } from "../stats/outcomes.ts";
import type { DepRecord, NewOutput, StoredEntry } from "../store/store.ts";
import { ok } from "../platform/result.ts";
import type { ServeJob } from "../serve/adapter.ts";
import { serve } from "../serve/serve.ts";
import { deliverCcOutput, writeRenderedOutput } from "./cc-deliver.ts";
import { ccFieldsOf } from "./cc-entry.ts";
import { type MissInput, recordEntry, runCcMiss } from "./cc-miss.ts";
import { ccFacts } from "./facts.ts";
import { type CacheKey, cacheKey } from "./key.ts";
import type { JobResult } from "./pipeline.ts";
import { locationMarkers } from "../compilers/cc/relocate.ts";

/** Options only preprocessing reads: left out of the text's key (the text shows their effect). */
const CPP_ONLY_WITH_VALUE = [
  "-iwithprefixbefore",
  "-iwithprefix",
  "-idirafter",
  "-isystem",
  "-iprefix",
  "-include",
  "-imacros",
  "-iquote",
  "-D",
  "-U",
  "-I",
] as const;
const CPP_ONLY_FLAGS = new Set(["-nostdinc", "-nostdinc++", "-MD", "-MMD", "-MP", "-MF", "-MT", "-MQ"]);

/** A job's arguments without the options only preprocessing reads (longest spelling first). */
export function withoutPreprocessorOptions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (CPP_ONLY_FLAGS.has(a)) {
      if (a === "-MF" || a === "-MT" || a === "-MQ") i++;
      continue;
    }
    const opt = CPP_ONLY_WITH_VALUE.find((o) => a.startsWith(o));
    if (opt !== undefined) {
      if (a === opt) i++;
      continue;
    }
    if (/^-M[FTQ]./.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** Debug formats that record every macro definition (-g3): the text no longer holds them. */
function recordsMacros(a: string): boolean {
  return /^-g(gdb|dwarf|dwarf-[2-5]|stabs\+?|xcoff\+?|vms|coff)?3$/.test(a) && !/^-gdwarf-3$/.test(a) || a === "-fdebug-macro";
}

/**
 * Whether a compile may be looked up by its preprocessed text: gcc or clang (emcc's driver
 * costs more to start than the lookup saves), C-family source that is preprocessed, and no
 * option through which preprocessing reaches the compile some other way (macro records in the
 * debug info, dumps, options handed to the preprocessor we cannot read, missing headers
 * taken as generated, precompiled headers clang would pick up).
 */
export function mayLookUpByText(m: Pick<MissInput, "family" | "job" | "req">): boolean {
  if (m.family !== "gcc" && m.family !== "clang") return false;
  if (isPreprocessed(m.job.language) || isAssembler(m.job.language)) return false;
  for (const a of m.job.args) {
    if (recordsMacros(a) || /^-d[A-Z]+$/.test(a) || a.startsWith("-Wp,") || a === "-Xpreprocessor" || a === "-MG") return false;
    if (a === "-fdirectives-only" || a === "-fpch-preprocess" || a === "-traditional-cpp" || a === "-traditional") return false;
    // -P drops the line markers from the text the key is over, not from the compile.
    if (a === "-P") return false;
  }
  if (m.family === "clang" && clangImplicitPch(m.job.args, m.req.cwd).some((p) => fs.existsSync(p))) return false;
  return true;
}

/** What preprocessing this compile found: the text's key, the inputs it read, the depfile it wrote. */
export interface PreprocessedLookup {
  readonly key: CacheKey;
  readonly headers: ReadonlyMap<string, ReadonlySet<string> | null>;
  /** The user's depfile as this compile writes it (null: it writes none). */
  readonly userDepfileText: string | null;
  /** Every input as the preprocessor spelled it (-MD), for recordEntry. */
  readonly depText: Buffer;
  /** The text itself (with line markers). */
  readonly text: Buffer;
  readonly startNs: bigint;
}

/**
 * Preprocesses the compile as it would run (same arguments, prefix maps, colours) with a
 * header trace and a depfile written for the user's own targets, so that the depfile is the
 * one the compile would write. Null when the text cannot stand for the compile (it failed,
 * a PCH is in play, the depfile cannot be reproduced), which then simply compiles.
 */
export async function preprocessForLookup(m: MissInput, keyInputs: CcKeyInputs): Promise<PreprocessedLookup | null> {
  const { job, inv, req, ctx } = m;
  const depfile = scratchPath(ctx.tmpDir, "pp");
  try {
    fs.writeFileSync(depfile, "");
  } catch {
    return null;
  }
  try {
    const plan = ccRunPlan(job, inv, m.family, m.terminal, depfile);
    const base = withoutOutputOptions(plan.args).filter((a) => a !== "-H");
    const userStyle = inv.deps.style === "mmd" && job.userDepfile !== null ? "-MMD" : "-MD";
    // The header list: gcc's -H trace names every header whatever the depfile leaves out;
    // clang's driver takes -H as "list system headers in the depfile", so clang runs without
    // it and its -MMD depfile (no system headers) cannot give the whole list.
    const traced = m.family === "gcc";
    if (!traced && userStyle === "-MMD") return null;
    // The user's own -MT/-MQ as written (gcc puts -MT targets before -MQ ones and quotes the
    // latter itself); with none, the output's name as the driver passes it.
    const own = targetOptions(job.args).flatMap((t) => [t.opt, t.value]);
    const targets = own.length > 0 ? own : ["-MQ", outputPathFor(inv, job.source)];
    const phony = job.args.includes("-MP") ? ["-MP"] : [];
    const remap = remapArgs(compilerCwd(req.cwd, req.env), ctx.relocation);
    const startNs = BigInt(Date.now() - 1) * 1_000_000n;
    const run: Captured = await runCapture(
      [m.ident.path, ...base, ...remap, "-E", "-fpch-preprocess", ...(traced ? ["-H"] : []), userStyle, "-MF", depfile, ...targets, ...phony, "-o", "-"],
      { cwd: req.cwd, env: { ...req.env } },
    );
    if (run.exitCode !== 0) return null;
    // A PCH gcc would use (the text names it instead of holding the header).
    if (run.stdout.includes("#pragma GCC pch_preprocess") || parsePchTrace(run.stderr.toString("utf8")).length > 0) return null;
    const depText = readIfExists(depfile);
    if (depText === null || depText.length === 0) return null;
    const depString = depText.toString("utf8");
    if (!Buffer.from(depString, "utf8").equals(depText)) return null;
    const { headers, stderr } = ccHeadersAfterRun(
      { kind: "depfile", depfile, traced },
      run.stderr,
      null,
      depString,
      req.cwd,
      job.sourceAbs,
    );
    if (headers === null) return null;
    // Every file the depfile names, with its content: the text shows the headers, but not
    // what else the compile reads (clang lists -fsanitize-ignorelist files there, both the
    // preprocessor and the compile read -imacros files).
    const inputs: string[] = [];
    for (const p of parseDepfile(depString)) {
      const hash = ctx.files.hash(joinPhysical(req.cwd, p));
      if (hash === null) return null;
      inputs.push(`${p}\u0000${hash}`);
    }
    const defines = definesThatMayMatter(job.args, parseDepfile(depString).map((p) => joinPhysical(req.cwd, p)));
    if (defines === null) return null;
    const key = cacheKey("cc-pp", [
      ...ccKeyFields({
        ...keyInputs,
        args: portableArgs(withoutPreprocessorOptions(job.args), req.cwd, ctx.relocation, m.mode),
        sourceHash: sha256Hex(run.stdout),
      }),
      { name: "cpp-stderr", value: sha256Hex(stderr) },
      { name: "inputs", value: inputs.sort() },
      { name: "cpp-defines", value: defines },
    ]);
    return {
      key,
      headers,
      userDepfileText: job.userDepfile === null ? null : depString,
      // With -MMD the depfile leaves out system headers; recordEntry only reads its spellings.
      depText,
      text: run.stdout,
      startNs,
    };
  } finally {
    removeQuietly(depfile);
  }
}

/** Where this job writes each stored role (the depfile is written from the preprocessing run). */
function destinationsOf(m: MissInput): ReadonlyMap<string, string> {
  const dests = new Map<string, string>([["object", m.job.objectPath]]);
  for (const side of m.job.sideOutputs) dests.set(side.kind, side.path);
  return dests;
}

/**
 * The lookup by text behind the serve loop: entries under the text's key have no inputs of
 * their own to check, stored nothing but their outputs, and say nothing on stdout or stderr.
 */
function textJob(m: MissInput, pp: PreprocessedLookup, startedMs: number, found: { entry: StoredEntry | null }): ServeJob<JobResult> {
  const dests = destinationsOf(m);
  const { job, ctx } = m;
  return {
    key: pp.key,
    startedMs,
    resolve: (p) => p,
    accepts: (entry: StoredEntry): boolean => {
      const cc = ccFieldsOf(entry);
      if (cc === null || cc.binding !== undefined || cc.ccDepfile !== undefined || cc.ccStdioTemplate !== undefined) return false;
      if (entry.deps.length > 0 || entry.absent.length > 0 || entry.exitCode !== 0 || entry.stdout !== "" || entry.stderr !== "") return false;
      return entry.outputs.every((o) => dests.has(o.role)) && entry.outputs.some((o) => o.role === "object");
    },
    deliverRendered: () => (job.userDepfile === null || pp.userDepfileText === null ? ok(undefined) : writeRenderedOutput(job.userDepfile, pp.userDepfileText)),
    destination: (output) => dests.get(output.role) ?? null,
    deliverOutput: (store, output, dest) => deliverCcOutput(store, output, dest, m.family, ctx.deliveryMode),
    replay: (entry) => ok({ exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), outcome: hitOutcome(entry, undefined) }),
    recordHit: (entry, savedMs, outcome) => {
      found.entry = entry;
      const deps: { path: string; hash: string }[] = [];
      for (const h of pp.headers.keys()) {
        const hash = ctx.files.hash(h);
        if (hash !== null) deps.push({ path: h, hash });
      }
      ctx.stats.record(hitOutcome(entry, outcome), m.lang, {
        output: job.objectPath,
        savedMs,
        facts: m.sourceHash === null ? undefined : ccFacts(job, m.ident, m.req, m.sourceHash, deps),
      });
    },
    // The direct lookup's reason is the one that explains this miss.
    miss: () => runCcMiss({ ...m, preprocessedKey: pp.key }),
  };
}

function hitOutcome(_entry: StoredEntry, outcome: HitOutcome | undefined): HitOutcome {
  return { ...(outcome ?? { kind: "hit" }), via: "preprocessed" };
}

/**
 * A direct-mode miss with preprocessor_fallback on: preprocess, look up by the text (local,
 * then remote tiers), and on a hit record the direct entry too. Anything that keeps the text
 * from standing for the compile makes it an ordinary miss.
 */
export async function missByText(m: MissInput, keyInputs: CcKeyInputs, startedMs: number): Promise<JobResult> {
  const store = m.ctx.store;
  if (store === null || m.key === null || !mayLookUpByText(m)) return runCcMiss(m);
  const pp = await preprocessForLookup(m, keyInputs);
  if (pp === null) return runCcMiss(m);
  const found: { entry: StoredEntry | null } = { entry: null };
  const r = await serve(textJob(m, pp, startedMs, found), store, m.ctx);
  if (r.outcome.kind !== "hit") return r;
  // The outputs are in place: the direct entry makes the next build hit without preprocessing.
  const outputs: NewOutput[] = [{ role: "object", path: m.job.objectPath }];
  if (m.job.userDepfile !== null) outputs.push({ role: "depfile", path: m.job.userDepfile });
  for (const side of m.job.sideOutputs) if (fs.existsSync(side.path)) outputs.push({ role: side.kind, path: side.path });
  const logicalCwd = compilerCwd(m.req.cwd, m.req.env);
  const deps: DepRecord[] = [];
  // Best effort: when the inputs changed meanwhile (or anything else keeps it out), the next
  // build finds the text's entry again.
  await recordEntry(
    m,
    {
      headers: pp.headers,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
      depText: pp.depText,
      startNs: pp.startNs,
      endNs: BigInt(Date.now() + 1) * 1_000_000n,
      compileMs: found.entry?.compileMs ?? 0,
      // What a -E -P run would print: the same text without its line markers.
      preprocess: () => Promise.resolve({ exitCode: 0, stdout: withoutLineMarkers(pp.text), stderr: Buffer.alloc(0) }),
      markers: m.mode.locationBound ? [] : locationMarkers(m.req.cwd, m.ctx.relocation, logicalCwd),
      logicalCwd,
      outputs,
    },
    deps,
  );
  return r;
}

/** Preprocessed text without its line markers (`# 12 "file" 1 3`), as -P prints it. */
export function withoutLineMarkers(text: Buffer): Buffer {
  const lines = text.toString("latin1").split("\n");
  return Buffer.from(lines.filter((l) => !/^# \d+ "/.test(l)).join("\n"), "latin1");
}

/** -D/-U options in order, as [option, "NAME[=value]"]. */
function defineOptions(args: readonly string[]): [opt: "-D" | "-U", text: string][] {
  const out: [opt: "-D" | "-U", text: string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    for (const opt of ["-D", "-U"] as const) {
      if (!a.startsWith(opt)) continue;
      const text = a === opt ? args[++i] : a.slice(opt.length);
      if (text !== undefined) out.push([opt, text]);
    }
  }
  return out;
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;

/**
 * The -D/-U options whose origin may matter, in order. The text shows a macro's expansion but
 * not where the macro came from, and compilers word their diagnostics by that (a token from
 * a command-line macro, from a system header's macro, or written in the file). A file can
 * only define or test a macro by spelling its name, so a -D/-U whose name no input file
 * contains (and no kept definition's value names) changes nothing but the text, which the key
 * holds: a build number, a define the file does not read. The rest stay in the key as
 * written. Null when an input cannot be read.
 */
export function definesThatMayMatter(args: readonly string[], inputs: readonly string[]): string[] | null {
  const options = defineOptions(args);
  if (options.length === 0) return [];
  const contents: Buffer[] = [];
  for (const p of inputs) {
    try {
      contents.push(fs.readFileSync(p));
    } catch {
      return null;
    }
  }
  const nameOf = (text: string): string => /^[A-Za-z_][A-Za-z0-9_]*/.exec(text)?.[0] ?? text;
  const mentioned = new Map<string, boolean>();
  const inFiles = (name: string): boolean => {
    let seen = mentioned.get(name);
    if (seen === undefined) {
      seen = contents.some((c) => c.includes(name));
      mentioned.set(name, seen);
    }
    return seen;
  };
  const kept = new Set<number>();
  const named = new Set<string>();
  // A kept definition's value may name another command-line macro: keep that one too.
  for (let changed = true; changed; ) {
    changed = false;
    options.forEach(([, text], i) => {
      if (kept.has(i)) return;
      const name = nameOf(text);
      if (!inFiles(name) && !named.has(name)) return;
      kept.add(i);
      changed = true;
      for (const id of text.slice(name.length).match(IDENTIFIER) ?? []) named.add(id);
    });
  }
  return options.filter((_, i) => kept.has(i)).map(([opt, text]) => `${opt}${text}`);
}
