// A C/C++ miss: run the real compiler so it names every header it read, then decide
// whether the result may be stored, and store it.
import * as fs from "node:fs";
import type { CcInvocation } from "../compilers/cc/args.ts";
import type { CcFamily } from "../compilers/family.ts";
import { mayCutLines, type Terminal } from "../compilers/cc/color.ts";
import { CC_KEY_ENV_VARS, type CcJob, ccHeadersAfterRun, ccRunPlan, withoutOutputOptions } from "../compilers/cc/plan.ts";
import { searchOrder } from "../compilers/cc/search-path.ts";
import { type Captured, runCapture } from "../platform/exec.ts";
import * as path from "node:path";
import {
  changedSince,
  readIfExists,
  removeQuietly,
  statSnapshot,
  writtenSince,
} from "../platform/fsx.ts";
import { directorySnapshot, regularFileStamp } from "../platform/stat-snapshot.ts";
import type { ContentHash } from "../platform/hash.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import type { Language, MissReason, Outcome, UncacheableReason } from "../stats/outcomes.ts";
import type { DepRecord, NewOutput } from "../store/store.ts";
import type { AbsentGroup } from "./absence.ts";
import { ccProbes, presentInputs } from "./cc-probes.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import type { PipelineContext } from "./context.ts";
import type { CacheKey } from "./key.ts";
import type { FileFacts } from "./file-hashes.ts";
import { isAssembler, outputPathFor } from "../compilers/cc/args.ts";
import { assemblerFileReads } from "../compilers/cc/asm-inputs.ts";
import { parseDepfile } from "../compilers/cc/depfile.ts";
import type { CcEntryFields } from "./cc-entry.ts";
import { ccFacts } from "./facts.ts";
import type { JobResult } from "./pipeline.ts";
import { type KeyMode, locationMarkers, portableArgs, portableEnv, remapArgs } from "../compilers/cc/relocate.ts";
import { compilerCwd, encodePath } from "../platform/relative-paths.ts";
import { bindingOf, placeHeld, portability } from "./cc-relocation.ts";
import { prefixFor, prefixSpoke } from "./prefix-command.ts";
import { scratchPath } from "./scratch.ts";

export interface MissInput {
  readonly job: CcJob;
  readonly inv: CcInvocation;
  readonly ident: CompilerIdentity;
  readonly terminal: Terminal;
  readonly family: CcFamily;
  readonly req: CompileRequest;
  readonly ctx: PipelineContext;
  /** Null when the result must not be stored (no store, unreadable source). */
  readonly key: CacheKey | null;
  readonly sourceHash: ContentHash | null;
  readonly missReason: MissReason;
  readonly lang: Language;
  /** What the key left out (relocate.ts), which the entry must then prove or bind. */
  readonly mode: KeyMode;
  /**
   * The key of this compile's preprocessed text (cc-preprocessed.ts), when it was looked up
   * by it and missed: an entry that may be found by its text alone is stored there too.
   */
  readonly preprocessedKey?: CacheKey;
}


export async function runCcMiss(m: MissInput): Promise<JobResult> {
  const privateDepfile = scratchPath(m.ctx.tmpDir, "dep");
  try {
    return await compileAndStore(m, privateDepfile);
  } finally {
    // After the reply has gone out (immediates run once the reply's microtasks are done):
    // nothing reads it again, its name is never reused, and a file left by a crash goes with
    // the rest of tmp/ when the daemon starts.
    setImmediate(() => removeQuietly(privateDepfile));
  }
}

/**
 * The compile exactly as the user asked, its result not stored: for when our own additions
 * (a private depfile in the cache root) cannot work, e.g. the cache disk is full.
 */
async function compileUncached(m: MissInput, why: string): Promise<JobResult> {
  const prefix = prefixFor(m.ctx.prefixCommand, m.req, m.ctx.stats);
  const run = await runCapture([...prefix, m.ident.path, ...m.job.args, ...remapArgs(compilerCwd(m.req.cwd, m.req.env), m.ctx.relocation)], {
    cwd: m.req.cwd,
    env: { ...m.req.env },
  });
  const outcome: Outcome =
    run.exitCode === 0 ? { kind: "uncacheable", reason: "cache-unavailable" } : { kind: "uncacheable", reason: "compile-failed" };
  m.ctx.stats.error("store-write-failed", why);
  m.ctx.stats.record(outcome, m.lang, { output: m.job.objectPath });
  return { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, outcome };
}

async function compileAndStore(m: MissInput, privateDepfile: string): Promise<JobResult> {
  const { job, inv, ident, req, ctx } = m;
  const plan = ccRunPlan(job, inv, m.family, m.terminal, privateDepfile);
  // ZCCACHE_PATH_REMAP: every compile the daemon runs gets the same maps, stored or not.
  const logicalCwd = compilerCwd(req.cwd, req.env);
  const remap = remapArgs(logicalCwd, ctx.relocation);
  const runArgs = [...plan.args, ...remap];
  // The compiler creates our depfile: its directory must be there and writable (one
  // access(2); a file created per miss to prove it would cost ~0.2 ms).
  if (!scratchUsable(ctx.tmpDir)) return compileUncached(m, `scratch directory ${ctx.tmpDir} not writable`);
  // Timestamps have at most millisecond-ish granularity here; back off 1 ms to be safe.
  const startNs = BigInt(Date.now() - 1) * 1_000_000n;
  const startedMs = performance.now();
  const runEnv = { ...req.env };
  // Whether a name of this tree reaches the code is read from the preprocessed text
  // (cc-relocation.ts); when the arguments that reach the preprocessor already name the tree
  // (a source or include dir, not only an output name such as `-o /abs/x.o`), it runs beside
  // the compile, as it does for assembler, whose `.include`s it always looks for below.
  // Started here or not, it runs whenever the inputs' spellings need it.
  let preprocessed: Promise<Captured> | null = null;
  const preprocess = (): Promise<Captured> =>
    (preprocessed ??= runCapture([ident.path, ...withoutOutputOptions(runArgs), "-E", "-P", "-o", "-"], { cwd: req.cwd, env: runEnv }));
  // Strings that name this tree (nothing to look for when the key holds the location anyway).
  const markers = m.mode.locationBound ? [] : locationMarkers(req.cwd, ctx.relocation, logicalCwd);
  // An entry whose key holds this tree's paths as written stays in this directory
  // (placeHeld), where no name can differ: nothing to look for.
  const started =
    isAssembler(job.language) ||
    (!m.mode.locationBound &&
      !placeHeld({ key: keySpellings(m), systemDirs: [], inputs: [job.source.path] }, req.cwd, logicalCwd, ctx.relocation.baseDirs) &&
      withoutOutputOptions(job.args).some((a) => markers.some((mk) => a.includes(mk))));
  if (m.key !== null && started) void preprocess();
  // Only the compile that writes the outputs goes through the prefix (distcc, …): the helper
  // runs beside it read this machine's headers and must stay here.
  const prefix = prefixFor(ctx.prefixCommand, req, ctx.stats);
  const [run, trace] = await Promise.all([
    runCapture([...prefix, ident.path, ...runArgs], { cwd: req.cwd, env: runEnv }),
    plan.headers.kind === "separate-trace"
      ? runCapture([ident.path, ...plan.headers.args, ...remap], { cwd: req.cwd, env: runEnv })
      : Promise.resolve(null),
  ]);
  const endNs = BigInt(Date.now() + 1) * 1_000_000n;
  // The compiler could not create or write our depfile (the scratch directory gone meanwhile,
  // a disk filling up): never let that failure reach the build. Its message may be wrapped
  // (-fmessage-length) where the path has a space, so compared without whitespace.
  if (
    (run.exitCode !== 0 || (trace !== null && trace.exitCode !== 0)) &&
    (!scratchUsable(ctx.tmpDir) || [run, trace].some((r) => r !== null && mentions(r.stderr, privateDepfile)))
  ) {
    return compileUncached(m, "the compiler could not write the scratch depfile");
  }
  const depText = plan.headers.kind === "none" ? Buffer.alloc(0) : readIfExists(plan.headers.depfile);
  const { headers, stderr } = ccHeadersAfterRun(
    plan.headers,
    run.stderr,
    trace?.stderr ?? null,
    depText === null ? null : depText.toString("utf8"),
    req.cwd,
    job.sourceAbs,
  );
  const compileMs = performance.now() - startedMs;
  const deps: DepRecord[] = [];
  const result = (outcome: Outcome): JobResult => {
    const facts = m.sourceHash !== null && outcome.kind === "miss" ? ccFacts(job, ident, req, m.sourceHash, deps) : undefined;
    ctx.stats.record(outcome, m.lang, { output: job.objectPath, facts });
    return { exitCode: run.exitCode, stdout: run.stdout, stderr, outcome };
  };
  const notStored = (reason: UncacheableReason): JobResult => result({ kind: "uncacheable", reason });

  if (mayCutLines(stderr, m.terminal.caretColumns)) return notStored("terminal-width");
  if (run.exitCode !== 0) return notStored("compile-failed");
  if (prefixSpoke(run.stderr, prefix)) return notStored("prefix-output");
  if (m.key === null || m.sourceHash === null || ctx.store === null) return notStored("cache-unavailable");
  if (headers === null || (trace !== null && trace.exitCode !== 0)) return notStored("too-hard");

  // `.include`/`.incbin` read files no depfile names. Read before the inputs are checked, so
  // an input changed while this ran is caught as racy below.
  if (isAssembler(job.language)) {
    const pre = await preprocess();
    if (pre.exitCode !== 0 || assemblerFileReads(pre.stdout.toString("latin1")) !== null) return notStored("too-hard");
  }
  const outputs: NewOutput[] = [];
  if (!writtenSince(job.objectPath, startNs)) return notStored("no-output");
  outputs.push({ role: "object", path: job.objectPath });
  if (job.userDepfile !== null) {
    if (!writtenSince(job.userDepfile, startNs)) return notStored("no-output");
    outputs.push({ role: "depfile", path: job.userDepfile });
  }
  for (const side of job.sideOutputs) {
    if (writtenSince(side.path, startNs)) outputs.push({ role: side.kind, path: side.path });
  }

  const why = await recordEntry(m, {
    headers,
    stdout: run.stdout,
    stderr,
    depText,
    startNs,
    endNs,
    compileMs,
    preprocess,
    markers,
    logicalCwd,
    outputs,
  }, deps);
  return why === null ? result({ kind: "miss", reason: m.missReason }) : notStored(why);
}

/**
 * Whether the scratch directory is a directory we can write to; recreated (private) when it
 * is gone, as when the cache root was emptied under a running daemon.
 */
function scratchUsable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      return fs.statSync(dir).isDirectory();
    } catch {
      return false;
    }
  }
}

/** Whether `text` names `p`, however a compiler wrapped its message. */
function mentions(text: Buffer, p: string): boolean {
  if (text.includes(p)) return true;
  return text.toString("utf8").replace(/\s+/g, "").includes(p.replace(/\s+/g, ""));
}

/** The key's arguments but the output names, and the values of the variables it reads, as the key holds them. */
function keySpellings(m: MissInput): string[] {
  const { job, req, ctx, mode } = m;
  const out = portableArgs(withoutOutputOptions(job.args), req.cwd, ctx.relocation, mode);
  const env = portableEnv(req.env, req.cwd, ctx.relocation, mode);
  for (const v of CC_KEY_ENV_VARS) {
    const value = env[v];
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** What a compile produced (or a hit found by its preprocessed text delivered), for recordEntry. */
export interface Produced {
  /** Absolute header paths, each with its includers when known. */
  readonly headers: ReadonlyMap<string, ReadonlySet<string> | null>;
  readonly stdout: Buffer;
  /** Without any -H trace. */
  readonly stderr: Buffer;
  /** A depfile naming every input as the compiler spelled it, when there is one. */
  readonly depText: Buffer | null;
  /** Before the compiler (or preprocessor) read the inputs; after the outputs were written. */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly compileMs: number;
  /** The compile's preprocessed text without line markers (cc-relocation.ts), run on demand. */
  readonly preprocess: () => Promise<Captured>;
  /** Strings that name this tree (relocate.ts: locationMarkers); none when the key holds the location. */
  readonly markers: readonly string[];
  readonly logicalCwd: string;
  /** The files this job wrote, by role. */
  readonly outputs: readonly NewOutput[];
}

/**
 * Checks the inputs and outputs of what `p` describes and stores the entry under `m.key`
 * (and under `m.preprocessedKey` when it may be found by its text alone). `deps` is filled
 * with the inputs read. Null when stored (or the store refused the write, which is counted);
 * else why it may not be stored.
 */
export async function recordEntry(m: MissInput, p: Produced, deps: DepRecord[]): Promise<UncacheableReason | null> {
  const { job, inv, ident, req, ctx } = m;
  const { headers, startNs, endNs, stderr, depText, preprocess, markers, logicalCwd, outputs } = p;
  const run = { stdout: p.stdout };
  const compileMs = p.compileMs;
  if (m.key === null || m.sourceHash === null || ctx.store === null) return "cache-unavailable";
  // An argument can carry what a file would (-DSTAMP=__TIME__, -DHAVE=__has_include(<x.h>)):
  // the key holds the argument, not what it expands to now.
  if (job.args.some((a) => /__(DATE|TIME|TIMESTAMP)__/.test(a))) return "time-macro";
  if (job.args.some((a) => a.includes("__has_include"))) return "too-hard";
  const source = ctx.files.facts(job.sourceAbs);
  if (source === null || source.hash !== m.sourceHash || changedSince(source.snapshot, startNs)) return "racy-input";
  if (source.timeMacros) return "time-macro";
  if (source.opaqueInputs) return "too-hard";
  deps.length = 0;
  const inputFacts: FileFacts[] = [source];
  for (const h of headers.keys()) {
    const f = ctx.files.facts(h);
    if (f === null || changedSince(f.snapshot, startNs)) return "racy-input";
    if (f.timeMacros) return "time-macro";
    if (f.opaqueInputs) return "too-hard";
    deps.push({ path: h, hash: f.hash });
    inputFacts.push(f);
  }

  // What the driver read besides its arguments (its configuration files, where gcc would
  // find a specs file) must be as it was before the compile: the key was made from that.
  const driver = ident.driverInputs;
  if (driver !== undefined) {
    for (const f of driver.files) {
      const snap = statSnapshot(f);
      if (snap === null || changedSince(snap, startNs)) return "racy-input";
    }
    for (const d of driver.dirs) {
      const snap = directorySnapshot(d);
      if (snap !== null && changedSince(snap, startNs)) return "racy-input";
    }
    for (const a of driver.absent) if (regularFileStamp(a) !== null) return "racy-input";
  }

  let systemDirs: string[];
  try {
    systemDirs = await ctx.systemDirs.get(ident.path, ident.hash, job.language, inv.modelArgs, req.env, req.cwd);
  } catch {
    return "too-hard";
  }
  const order = searchOrder(inv, job.source.path, job.language, systemDirs, req.cwd, req.env);
  // A probe that exists now was there when the compiler chose a later directory
  // (#include_next, or a quote include), unless it appeared while the compiler ran. It is
  // kept as an input: if it changes (or its directory is swapped for another), the
  // compiler's choice may change too, so the entry must not be trusted.
  const probes = await ccProbes({
    family: m.family,
    compilerPath: ident.path,
    args: job.args,
    modelArgs: inv.modelArgs,
    cwd: req.cwd,
    env: req.env,
    sourceAbs: job.sourceAbs,
    headers,
    order,
    systemDirs,
    files: ctx.files,
  });
  if (!probes.ok) return (probes.why);
  const check = ctx.absence.pass();
  // One check per directory (a trivial C file has ~180 probes in a handful of directories):
  // every name absent is the common case. Only a directory where something is present is
  // gone through name by name, which the pass answers from the states it just saw.
  const byDir = new Map<string, { names: string[]; probes: string[] }>();
  for (const p of probes.probes) {
    const dir = path.dirname(p);
    let g = byDir.get(dir);
    if (g === undefined) {
      g = { names: [], probes: [] };
      byDir.set(dir, g);
    }
    g.names.push(path.basename(p));
    g.probes.push(p);
  }
  const absent: AbsentGroup[] = [];
  for (const [dir, g] of byDir) {
    if (check(dir, g.names)) {
      absent.push([dir, g.names]);
      continue;
    }
    const keptNames: string[] = [];
    for (let i = 0; i < g.names.length; i++) {
      const name = g.names[i] as string;
      if (check(dir, [name])) {
        keptNames.push(name);
        continue;
      }
      const present = presentInputs(g.probes[i] as string, ctx.files, startNs);
      if (present === null) return "racy-input";
      for (const d of present) if (!deps.some((x) => x.path === d.path)) deps.push(d);
    }
    if (keptNames.length > 0) absent.push([dir, keptNames]);
  }

  // Whether the entry may serve other trees and output names, or is bound to this compile's.
  // The bytes read here are the ones stored: checked below to be what the compiler wrote.
  const bytesOf = new Map<string, Buffer>();
  for (const o of outputs) {
    const b = readIfExists(o.path);
    if (b === null) return "racy-input";
    bytesOf.set(o.path, b);
  }
  const outputBytes = outputs.filter((o) => o.role !== "depfile").map((o) => bytesOf.get(o.path) as Buffer);
  const userDepText = job.userDepfile === null ? null : (bytesOf.get(job.userDepfile) ?? null);
  if (job.userDepfile !== null && userDepText === null) return "racy-input";
  const spelledInputs = [job.source.path, ...(depText === null ? [] : parseDepfile(depText.toString("utf8")))];
  const where = await portability({
    job,
    family: m.family,
    cwd: req.cwd,
    logicalCwd,
    reloc: ctx.relocation,
    mode: m.mode,
    stdout: run.stdout,
    stderr,
    inputs: inputFacts,
    preprocess,
    spelledInputs,
    outputBytes,
    depfileText: userDepText === null ? null : userDepText.toString("utf8"),
    outputSpelled: outputPathFor(inv, job.source),
    placeHeld: placeHeld({ key: keySpellings(m), systemDirs, inputs: spelledInputs }, req.cwd, logicalCwd, ctx.relocation.baseDirs),
  });
  // A depfile rendered on each hit is described by the entry, not stored as a blob.
  const stored = where.depfile === null ? outputs : outputs.filter((o) => o.role !== "depfile");
  const encode = (p: string): string => encodePath(p, req.cwd, m.mode.locationBound ? [] : ctx.relocation.baseDirs);
  const storedDeps = deps.map((d) => ({ path: encode(d.path), hash: d.hash }));
  const storedAbsent = absent.map(([dir, names]) => [encode(dir), names] as const);
  // A path inside this tree that could not be written relative ("x/sym/../y" under a base
  // dir) would be checked in this tree by a compile elsewhere: such an entry stays here.
  const pinned = [...storedDeps.map((d) => d.path), ...storedAbsent.map(([dir]) => dir)].some(
    (p) => p.startsWith("/") && markers.some((mk) => p === mk || p.startsWith(`${mk}/`)),
  );
  const binding = where.binding ?? (pinned ? bindingOf(req.cwd, logicalCwd, job.args) : null);
  // gcc names a system header by its real path when that is shorter: a search directory that
  // is a symlink (or lies under one) must still lead where it led, or another target's
  // header would be read while we validate this one.
  const dirTargets: [string, string][] = [];
  for (const d of new Set(order)) {
    let real: string;
    try {
      real = fs.realpathSync(d);
    } catch {
      continue;
    }
    if (real !== path.resolve(d)) dirTargets.push([encode(d), encode(real)]);
  }
  const ccRecord: CcEntryFields = {
    ...(dirTargets.length === 0 ? {} : { ccDirTargets: dirTargets }),
    ...(binding === null ? {} : { binding }),
    ...(where.depfile === null ? {} : { ccDepfile: where.depfile }),
    ...(where.stdio === null ? {} : { ccStdioTemplate: true }),
  };

  // Outputs must be exactly what the compiler wrote: nothing touched them after it exited
  // until we had read them (a stamp after the compile's end is another writer's). The bytes
  // read are the ones stored, whatever the files hold by then.
  for (const o of outputs) {
    const st = fs.statSync(o.path, { bigint: true, throwIfNoEntry: false });
    if (st === undefined || st.mtimeNs > endNs || st.ctimeNs > endNs) return "racy-input";
  }
  const store = ctx.store;
  const blobs = stored.map((o) => ({ ...o, bytes: bytesOf.get(o.path) as Buffer }));
  const put = await store.put(
    m.key,
    {
      ...ccRecord,
      deps: storedDeps,
      absent: storedAbsent,
      exitCode: 0,
      stdout: (where.stdio?.stdout ?? run.stdout).toString("base64"),
      stderr: (where.stdio?.stderr ?? stderr).toString("base64"),
      language: m.lang,
      compileMs: Math.round(compileMs),
    },
    blobs,
  );
  if (!put.ok) ctx.stats.error("store-write-failed", put.error.detail);
  if (put.ok && m.preprocessedKey !== undefined && servableByText(binding, where.stdio !== null, run.stdout, stderr, deps)) {
    // The same outputs under the text's key: no inputs to check (the text is the key), no
    // depfile (each compile renders its own from its preprocessing run).
    const byText = await store.put(
      m.preprocessedKey,
      { deps: [], absent: [], exitCode: 0, stdout: "", stderr: "", language: m.lang, compileMs: Math.round(compileMs) },
      blobs.filter((o) => o.role !== "depfile"),
    );
    if (!byText.ok) ctx.stats.error("store-write-failed", byText.error.detail);
  }
  return null;
}

/**
 * Whether an entry may also be found by its preprocessed text: it must not depend on this
 * tree beyond what the text says (no binding, no paths templated in its output), say nothing
 * (diagnostics can name macros and their definitions, which the text no longer holds), and
 * no precompiled header may have been read (the text holds the header, the object its PCH).
 */
function servableByText(binding: string | null, templatedStdio: boolean, stdout: Buffer, stderr: Buffer, deps: readonly DepRecord[]): boolean {
  if (binding !== null || templatedStdio || stdout.length > 0 || stderr.length > 0) return false;
  return !deps.some((d) => /\.(gch|pch)$/.test(d.path) || d.path.includes(".gch/"));
}
