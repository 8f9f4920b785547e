// The per-request pipeline: resolve the compiler, pick the family; for C and C++ classify,
// split into jobs and key each, then hand it to the serve loop (serve/serve.ts).
import * as path from "node:path";
import { classifyCc, type CcInvocation } from "../compilers/cc/args.ts";
import {
  CC_UNCACHEABLE_ENV_VARS,
  type CcJob,
  ccJobs,
  ccKeyFields,
  type CcKeyInputs,
  usesNativeCpu,
  type ColorMode,
} from "../compilers/cc/plan.ts";
import { clangMessageLength, colorModeFor, recordsSwitches, type Terminal } from "../compilers/cc/color.ts";
import { expandResponseFiles, FD_INPUT } from "../compilers/cc/response-files.ts";
import { analyzerFamily, type CcFamily, compilerFamily } from "../compilers/family.ts";
import { unreachable } from "../platform/result.ts";
import { handleLink } from "./link/handle.ts";
import { handleRustc } from "./rustc/handle.ts";
import { handleAnalysis } from "./tidy/handle.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import { isAbsent, replaceableOutput, stderrIsTerminal } from "../platform/fsx.ts";
import { terminalColumns } from "../platform/tty-size.ts";
import { describeOutcome, type Language, type Outcome, type UncacheableReason } from "../stats/outcomes.ts";
import { serve } from "../serve/serve.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import { resolveCompiler } from "./compiler-identity.ts";
import type { CompileReply, PipelineContext } from "./context.ts";
import { cacheKey } from "./key.ts";
import { keyMode, portableArgs, portableEnv } from "../compilers/cc/relocate.ts";
import { hostCpu } from "../platform/host-cpu.ts";
import { compilerCwd } from "../platform/relative-paths.ts";
import { placeOf } from "./cc-relocation.ts";
import { ccServeJob } from "./cc-serve.ts";
import { runCcMiss } from "./cc-miss.ts";
import { subToolFingerprints } from "./sub-tools.ts";
import { driverIdentity } from "./driver-identity.ts";
import { emccFlagsAcceptable } from "./emscripten-config.ts";

export interface JobResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly outcome: Outcome;
}

function languageOf(job: CcJob): Language {
  return job.language.includes("++") ? "c++" : "c";
}

function runLocal(ctx: PipelineContext, reason: UncacheableReason, compilerPath: string | null, lang: Language): CompileReply {
  ctx.stats.record({ kind: "uncacheable", reason }, lang);
  return { kind: "run-local", reason, compilerPath };
}

export async function handleCompile(req: CompileRequest, ctx: PipelineContext): Promise<CompileReply> {
  const env = req.env;
  const compilerPath = resolveCompiler(req.compiler, req.cwd, env.PATH ?? "", req.selfExe ?? null);
  if (compilerPath === null) return runLocal(ctx, "unknown-compiler", null, "other");
  const ident = ctx.compilers.identify(compilerPath);
  const invokedName = path.basename(req.compiler);
  const analyzer = ident === null ? null : analyzerFamily(invokedName, ident.realName);
  if (ident !== null && analyzer !== null) return handleAnalysis(req, ident, analyzer, ctx);
  const family = ident === null ? null : compilerFamily(invokedName, ident.realName);
  if (ident === null || family === null) return runLocal(ctx, "unknown-compiler", compilerPath, "other");
  if (ctx.store === null) return runLocal(ctx, "cache-unavailable", compilerPath, "other");
  const driver = await driverIdentity(ident, family, req.env, req.cwd, ctx.files);
  if (driver === null) return runLocal(ctx, "too-hard", compilerPath, "other");
  switch (family) {
    case "rustc":
      return handleRustc(req, driver, ctx);
    case "archiver":
    case "linker":
      return handleLink(req, driver, family, req.args, ctx);
    case "gcc":
    case "clang":
    case "emcc":
      return handleCc(req, driver, family, invokedName, compilerPath, ctx);
    default:
      return unreachable(family);
  }
}

async function handleCc(
  req: CompileRequest,
  ident: CompilerIdentity,
  family: CcFamily,
  invokedName: string,
  compilerPath: string,
  ctx: PipelineContext,
): Promise<CompileReply> {
  const env = req.env;
  if (CC_UNCACHEABLE_ENV_VARS.some((v) => env[v] !== undefined)) return runLocal(ctx, "too-hard", compilerPath, "other");
  const expanded = expandResponseFiles(req.args, req.cwd);
  if (!expanded.ok) return runLocal(ctx, expanded.error === FD_INPUT ? "fd-input" : "too-hard", compilerPath, "other");
  const cls = classifyCc(expanded.value.args, family);
  if (cls.kind === "not-cacheable" && cls.reason === "link") {
    return handleLink(req, ident, family, expanded.value.args, ctx);
  }
  if (cls.kind === "not-cacheable") return runLocal(ctx, cls.reason, compilerPath, "other");
  if (family === "emcc" && !emccFlagsAcceptable(env)) return runLocal(ctx, "too-hard", compilerPath, "other");
  const inv = cls.inv;
  for (const src of inv.sources) {
    if (isAbsent(path.resolve(req.cwd, src.path))) return runLocal(ctx, "missing-input", compilerPath, "other");
  }
  const stderrTty = stderrIsTerminal(req.clientPid);
  const colorMode: ColorMode = colorModeFor(family, inv.modelArgs, inv.explicitColor, env, stderrTty);
  let caretColumns: number | null = null;
  if (family === "gcc" && stderrTty) {
    // gcc cuts quoted source lines to the terminal's width (COLUMNS, else its stdin's
    // terminal) when stderr is a terminal. On our pipe it cannot: the width goes in the
    // key, and a miss whose diagnostics would have been cut is handed back to the client.
    const fromEnv = Number.parseInt(env.COLUMNS ?? "", 10);
    caretColumns = fromEnv > 0 ? fromEnv : terminalColumns(req.clientPid, 0);
    if (caretColumns !== null && env.COLUMNS === undefined) req = { ...req, env: { ...env, COLUMNS: String(caretColumns) } };
  }
  const terminal: Terminal = { colorMode, messageLength: clangMessageLength(family, inv.modelArgs, env, stderrTty), caretColumns };
  if ((colorMode === "tty-urls" || colorMode === "urls") && recordsSwitches(inv.modelArgs)) {
    return runLocal(ctx, "terminal-urls", compilerPath, "other");
  }
  // -MF/-MT/-MQ/-MP without -M/-MD/-MMD fail (gcc) or warn (clang) bare; the depfile we add
  // on a miss would make them work. Recorded command lines would record our additions.
  if (inv.deps.style === "none" && inv.modelArgs.some((a) => /^-M[FTQPG]/.test(a))) return runLocal(ctx, "too-hard", compilerPath, "other");
  if (inv.modelArgs.some((a) => /^-(frecord-gcc-switches|frecord-command-line|grecord-command-line)$/.test(a))) {
    return runLocal(ctx, "too-hard", compilerPath, "other");
  }
  // "-MF -" writes the depfile to stdout; a device, fifo or the source itself as an output is
  // the compiler's business (it fails or writes through): never ours to replace.
  if (inv.deps.file === "-") return runLocal(ctx, "special-output", compilerPath, "other");
  const jobs = ccJobs(inv, req.cwd);
  for (const j of jobs) {
    const outs = [j.objectPath, ...(j.userDepfile === null ? [] : [j.userDepfile]), ...j.sideOutputs.map((s) => s.path)];
    if (outs.some((o) => o === j.sourceAbs || !replaceableOutput(o))) return runLocal(ctx, "special-output", compilerPath, "other");
  }
  const written = jobs.flatMap((j) => [j.objectPath, ...(j.userDepfile === null ? [] : [j.userDepfile])]);
  // x/a.c and y/a.c both write a.o: only an in-order compile gets the last one right.
  if (new Set(written).size !== written.length) return runLocal(ctx, "too-hard", compilerPath, "other");
  // The files these jobs write are this daemon's while they run (output-writes.ts).
  const done = ctx.writes.begin([...written, ...jobs.flatMap((j) => j.sideOutputs.map((side) => side.path))]);
  let results: JobResult[];
  try {
    results = await Promise.all(jobs.map((job) => runJob(job, inv, ident, family, invokedName, terminal, req, ctx)));
  } finally {
    done();
  }
  const handBack = results.find((r) => r.outcome.kind === "uncacheable" && r.outcome.reason === "terminal-width");
  if (handBack !== undefined) return { kind: "run-local", reason: "terminal-width", compilerPath };
  let exitCode = 0;
  for (const r of results) if (exitCode === 0 && r.exitCode !== 0) exitCode = r.exitCode;
  return {
    kind: "result",
    exitCode,
    stdout: Buffer.concat(results.map((r) => r.stdout)),
    stderr: Buffer.concat(results.map((r) => r.stderr)),
    outcome: results.map((r) => describeOutcome(r.outcome)).join(","),
  };
}

async function runJob(
  job: CcJob,
  inv: CcInvocation,
  ident: CompilerIdentity,
  family: CcFamily,
  invokedName: string,
  terminal: Terminal,
  req: CompileRequest,
  ctx: PipelineContext,
): Promise<JobResult> {
  const store = ctx.store;
  const startedMs = performance.now();
  const lang = languageOf(job);
  const reloc = ctx.relocation;
  const mode = keyMode(job.args, reloc);
  const source = ctx.files.facts(job.sourceAbs);
  if (store === null || source === null) {
    return runCcMiss({ job, inv, ident, family, terminal, req, ctx, key: null, sourceHash: null, missReason: "new-source", lang, mode });
  }
  const tools = await subToolFingerprints(ident, family, job, inv, req.env, req.cwd, ctx.compilers);
  if (tools === null) {
    return runCcMiss({ job, inv, ident, family, terminal, req, ctx, key: null, sourceHash: null, missReason: "new-source", lang, mode });
  }
  const keyInputs: CcKeyInputs = {
    compilerHash: ident.hash,
    invokedName,
    args: portableArgs(job.args, req.cwd, reloc, mode),
    // As the compiler records it ($PWD when that is the cwd entered through a symlink), and
    // the directory itself, where the recorded relative paths are read.
    cwd: mode.locationBound ? placeOf(req.cwd, compilerCwd(req.cwd, req.env)) : null,
    remap: reloc.remap,
    env: portableEnv(req.env, req.cwd, reloc, mode),
    colorMode: terminal.colorMode,
    messageLength: terminal.messageLength,
    sourceHash: source.hash,
    tools,
    hostCpu: usesNativeCpu(job.args) ? hostCpu() : null,
  };
  const key = cacheKey("cc", ccKeyFields(keyInputs));
  return serve(
    ccServeJob({ job, inv, ident, family, terminal, req, ctx, key, keyInputs, sourceHash: source.hash, lang, startedMs, mode }),
    store,
    ctx,
  );
}
