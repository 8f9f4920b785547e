// rustc (and clippy-driver) behind RUSTC_WRAPPER: classify → fingerprint the toolchain and
// every input → key, then the serve loop (serve/serve.ts) with hit.ts as the adapter.
// Everything here fails towards running the real compiler.
import * as fs from "node:fs";
import * as path from "node:path";
import { classifyRustc, expandArgFiles, linksWithSystemLinker, type RustInvocation } from "../../compilers/rustc/args.ts";
import { expectedOutputs, type RustOutput } from "../../compilers/rustc/outputs.ts";
import { rustcRunEnv, rustKeyFields } from "../../compilers/rustc/plan.ts";
import { runCapture } from "../../platform/exec.ts";
import { remapPairs } from "../../platform/relative-paths.ts";
import { stderrIsTerminal } from "../../platform/fsx.ts";
import { errorMessage } from "../../platform/result.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import { serve } from "../../serve/serve.ts";
import { describeOutcome, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import { type CacheKey, cacheKey } from "../key.ts";
import { rustServeJob } from "./hit.ts";
import { KnownOutputs } from "./known-outputs.ts";
import { hostCpu } from "../../platform/host-cpu.ts";
import { linkArgFileInputs, linkerInputs, nativeLibraryInputs, targetSpecInput } from "./link-inputs.ts";
import { runRustMiss } from "./miss.ts";
import { RustToolchains } from "./toolchain.ts";
import { answerTargetInfoProbe, answerVerboseVersion, isVerboseVersion } from "./cargo-probes.ts";

// Daemon-lifetime memos, private to the Rust adapter.
const toolchains = new RustToolchains();
const known = new KnownOutputs();

/** Everything the hit and miss paths need about one invocation. */
export interface RustJob {
  readonly req: CompileRequest;
  readonly ctx: PipelineContext;
  readonly ident: CompilerIdentity;
  /** The rustc path clippy-driver was given as its first argument, or null. */
  readonly viaRustc: string | null;
  readonly inv: RustInvocation;
  readonly outputs: readonly RustOutput[];
  /** Whether the user asked for a dep-info file (else the miss writes a private one). */
  readonly userDepInfo: RustOutput | null;
  readonly externPaths: readonly (string | null)[];
  readonly externHashes: readonly (string | null)[];
  readonly colorMode: "tty" | "pipe" | "n/a";
  readonly known: KnownOutputs;
  readonly clippy: boolean;
}

function isClippy(name: string): boolean {
  return /^clippy-driver(\.exe)?$/.test(name);
}

function passThrough(ctx: PipelineContext, ident: CompilerIdentity, reason: UncacheableReason): CompileReply {
  ctx.stats.record({ kind: "uncacheable", reason }, "rust");
  return { kind: "run-local", reason, compilerPath: ident.path };
}

/**
 * A real compile we do not store (dylib, cdylib, test harness), run here rather than by the
 * client: the client cannot hand cargo's jobserver descriptors on, and rustc would warn that
 * the jobserver in CARGO_MAKEFLAGS is unreachable.
 */
async function compileUncached(
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
  reason: UncacheableReason,
): Promise<CompileReply> {
  const runEnv = rustcRunEnv(req.env);
  const argv = [ident.path, ...req.args];
  const human = !req.args.some((a) => a.startsWith("--error-format") && !/=(human|short)$/.test(a));
  if (human && !req.args.some((a) => a.startsWith("--color")) && stderrIsTerminal(req.clientPid)) argv.push("--color=always");
  const run = await runCapture(argv, { cwd: req.cwd, env: runEnv });
  const outcome: Outcome = { kind: "uncacheable", reason };
  ctx.stats.record(outcome, "rust");
  return { kind: "result", exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, outcome: describeOutcome(outcome) };
}

function readText(p: string): string | null {
  try {
    return fs.readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

export async function handleRustc(req: CompileRequest, ident: CompilerIdentity, ctx: PipelineContext): Promise<CompileReply> {
  // cargo's probes are answered (or run) with the arguments cargo gave.
  if (ctx.relocation.remap && !isVerboseVersion(req.args) && !req.args.includes("-")) {
    // ZCCACHE_PATH_REMAP: the compile runs (and is keyed) as if the build had passed these
    // maps; with the cwd covered, the key has no absolute location left (plan.ts).
    const maps = remapPairs(req.cwd, ctx.relocation.baseDirs).map(([from, to]) => `--remap-path-prefix=${from}=${to}`);
    req = { ...req, args: [...req.args, ...maps] };
  }
  try {
    return await handle(req, ident, ctx);
  } catch (e) {
    // A bug here must not fail the build: the client runs the real compiler.
    ctx.stats.error("internal", `rustc: ${errorMessage(e)}`);
    return { kind: "run-local", reason: "internal", compilerPath: ident.path };
  }
}

async function handle(req: CompileRequest, ident: CompilerIdentity, ctx: PipelineContext): Promise<CompileReply> {
  const { cwd, env } = req;
  const clippy = isClippy(path.basename(req.compiler)) || isClippy(ident.realName);
  let args = req.args;
  let viaRustc: string | null = null;
  // cargo runs `$RUSTC_WRAPPER $RUSTC_WORKSPACE_WRAPPER $RUSTC args…`: clippy-driver gets rustc first.
  if (clippy && args[0] !== undefined && /^rustc(\.exe)?$/.test(path.basename(args[0]))) {
    viaRustc = args[0];
    args = args.slice(1);
  }
  const expanded = expandArgFiles(args, (p) => readText(path.resolve(cwd, p)));
  if (expanded === null) return passThrough(ctx, ident, "too-hard");
  const cls = classifyRustc(expanded);
  if (cls.kind === "not-cacheable" && !clippy) {
    let answer: CompileReply | null = null;
    if (cls.reason === "info-query" && isVerboseVersion(expanded)) answer = await answerVerboseVersion(toolchains, req, ident, ctx);
    else if (cls.reason === "stdin-input") answer = await answerTargetInfoProbe(toolchains, req, expanded, ident, ctx);
    if (answer !== null) return answer;
  }
  if (cls.kind === "not-cacheable") {
    if (cls.reason === "dylib-crate" || cls.reason === "test-harness") return compileUncached(req, ident, ctx, cls.reason);
    return passThrough(ctx, ident, cls.reason);
  }
  const inv = cls.inv;
  if (ctx.store === null) return passThrough(ctx, ident, "cache-unavailable");
  if (!fs.existsSync(path.resolve(cwd, inv.input))) return passThrough(ctx, ident, "missing-input");

  const tc = await toolchains.identify(ident, viaRustc, env, cwd);
  if (!tc.ok) return passThrough(ctx, ident, "unknown-compiler");
  const outputs = expectedOutputs(inv, cwd, tc.value.host);
  if (outputs === null) return passThrough(ctx, ident, "too-hard");

  const externPaths = inv.externs.map((e) => (e.path === null ? null : path.resolve(cwd, e.path)));
  const externHashes: (string | null)[] = [];
  for (const p of externPaths) {
    if (p === null) {
      externHashes.push(null);
      continue;
    }
    const h = known.hash(p, ctx.files);
    if (h === null) return passThrough(ctx, ident, "missing-input");
    externHashes.push(h);
  }

  const native = nativeLibraryInputs(inv, cwd, ctx);
  if (!native.ok) return passThrough(ctx, ident, "too-hard");
  const linkInputs = [...native.value];
  let linker: string | null = null;
  if (linksWithSystemLinker(inv)) {
    const l = await linkerInputs(inv, tc.value.host, cwd, env, ctx);
    if (!l.ok) return passThrough(ctx, ident, "too-hard");
    linker = l.value.identity;
    linkInputs.push(...l.value.files, ...linkArgFileInputs(inv, cwd, ctx));
  }
  const spec = targetSpecInput(inv, cwd, env, ctx);
  if (!spec.ok) return passThrough(ctx, ident, "missing-input");

  const human = inv.errorFormat === null || inv.errorFormat === "human" || inv.errorFormat === "short";
  const colorMode = human && (inv.color === null || inv.color === "auto") ? (stderrIsTerminal(req.clientPid) ? "tty" : "pipe") : "n/a";

  const key = cacheKey(
    "rustc",
    rustKeyFields(inv, {
      toolchain: tc.value.digest,
      driver: clippy ? `clippy-driver=${ident.hash}` : "rustc",
      cwd,
      env,
      externHashes,
      linkInputs,
      linker,
      targetSpec: spec.value,
      hostCpu: inv.targetCpuNative ? hostCpu() : null,
      colorMode,
      clippy,
    }),
  );

  const job: RustJob = {
    req,
    ctx,
    ident,
    viaRustc,
    inv,
    outputs,
    userDepInfo: outputs.find((o) => o.role === "dep-info") ?? null,
    externPaths,
    externHashes,
    colorMode,
    known,
    clippy,
  };
  return lookupOrCompile(job, key, performance.now());
}

async function lookupOrCompile(job: RustJob, key: CacheKey, startedMs: number): Promise<CompileReply> {
  const store = job.ctx.store;
  if (store === null) return runRustMiss(job, null, "new-source");
  return serve(rustServeJob(job, key, startedMs), store, job.ctx);
}
