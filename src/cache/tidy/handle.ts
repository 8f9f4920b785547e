// clang-tidy and include-what-you-use: classify → key, then the serve loop (serve/serve.ts)
// with this adapter. A hit replays the tool's stdout, stderr and exit code; nothing is
// written. Counted under the language "analysis".
import * as fs from "node:fs";
import { joinPhysical } from "../../platform/paths.ts";
import { compilerCwd } from "../../platform/relative-paths.ts";
import { CC_UNCACHEABLE_ENV_VARS, keyEnvPairs } from "../../compilers/cc/plan.ts";
import type { AnalyzerFamily } from "../../compilers/family.ts";
import { type AnalysisInvocation, classifyAnalysis } from "../../compilers/tidy/args.ts";
import { mappingFileClosure } from "../../compilers/tidy/config-files.ts";
import type { ContentHash } from "../../platform/hash.ts";
import { ok } from "../../platform/result.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { ServeJob } from "../../serve/adapter.ts";
import { serve } from "../../serve/serve.ts";
import { resolverFor } from "../../serve/validate.ts";
import type { UncacheableReason } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import { type CompileReply, type PipelineContext, storedReply } from "../context.ts";
import { cacheKey, type CacheKey } from "../key.ts";
import { runAnalysisMiss } from "./miss.ts";
import { type MatchingClang, matchingClang } from "./toolchain.ts";

export interface AnalysisPlan {
  readonly tool: AnalyzerFamily;
  readonly inv: AnalysisInvocation;
  readonly key: CacheKey;
  readonly sourceAbs: string;
  readonly sourceHash: ContentHash;
  readonly clang: MatchingClang;
  /** Files the key holds by content (config and mapping files), checked again after the run. */
  readonly keyInputs: readonly { readonly path: string; readonly hash: ContentHash }[];
  /** Files that must stay absent for the key's inputs to be the ones read (IWYU's first place to look for a ref:). */
  readonly absentInputs: readonly string[];
}

function terminalOn(pid: number, fd: number): boolean {
  try {
    return /^\/dev\/(pts\/|tty|console$)/.test(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
  } catch {
    return false;
  }
}

export async function handleAnalysis(req: CompileRequest, ident: CompilerIdentity, tool: AnalyzerFamily, ctx: PipelineContext): Promise<CompileReply> {
  const planned = await planAnalysis(req, ident, tool, ctx);
  if (planned.kind === "run-local" || ctx.store === null) {
    const reason = planned.kind === "run-local" ? planned.reason : "cache-unavailable";
    ctx.stats.record({ kind: "uncacheable", reason }, "analysis");
    return { kind: "run-local", reason, compilerPath: ident.path };
  }
  return serve(analysisServeJob(planned.plan, req, ident, ctx, performance.now()), ctx.store, ctx);
}

type Planned = { readonly kind: "plan"; readonly plan: AnalysisPlan } | { readonly kind: "run-local"; readonly reason: UncacheableReason };

async function planAnalysis(req: CompileRequest, ident: CompilerIdentity, tool: AnalyzerFamily, ctx: PipelineContext): Promise<Planned> {
  const local = (reason: UncacheableReason): Planned => ({ kind: "run-local", reason });
  if (CC_UNCACHEABLE_ENV_VARS.some((v) => req.env[v] !== undefined)) return local("too-hard");
  // clang's driver applies it, the tools do not: our preprocessing run would read other headers.
  if (req.env.CCC_OVERRIDE_OPTIONS !== undefined) return local("too-hard");
  const cls = classifyAnalysis(tool, req.args, req.cwd);
  if (cls.kind === "not-cacheable") return local(cls.reason);
  const inv = cls.inv;
  // On a terminal the tools colour their reports (clang-tidy by stdout, clang by stderr):
  // what a pipe gets is not what the user would see.
  if (terminalOn(req.clientPid, 1) || terminalOn(req.clientPid, 2)) return local("too-hard");
  // As the kernel resolves it (`lnk/../a.c` is not `a.c`), the way the tool opens it.
  const sourceAbs = joinPhysical(req.cwd, inv.source);
  // An argument can carry what a file would: the key holds the argument, not what it expands to now.
  if (inv.compileArgs.some((a) => /__(DATE|TIME|TIMESTAMP)__/.test(a))) return local("time-macro");
  if (inv.compileArgs.some((a) => a.includes("__has_include"))) return local("too-hard");
  const source = ctx.files.facts(sourceAbs);
  if (source === null) return local("missing-input");
  const clang = await matchingClang(tool, ident, ctx.compilers);
  if (clang === null) return local("too-hard");
  const keyInputs: { path: string; hash: ContentHash }[] = [];
  const named = [...(inv.configFile === null ? [] : [inv.configFile])];
  const mappings = mappingFileClosure(inv.mappingFiles, req.cwd);
  if (mappings === null) return local("too-hard");
  for (const p of [...named.map((n) => joinPhysical(req.cwd, n)), ...mappings.files]) {
    const f = ctx.files.facts(p);
    if (f === null) return local("missing-input");
    keyInputs.push({ path: p, hash: f.hash });
  }
  const env = keyEnvPairs(req.env);
  const key = cacheKey("analysis", [
    { name: "tool", value: tool },
    { name: "tool-hash", value: ident.hash },
    { name: "clang-hash", value: clang.clang.hash },
    { name: "resource-dir", value: clang.resourceDir },
    // Reports name files by absolute path, through $PWD when that is the cwd entered by a
    // symlink (as LLVM's current_path does): entries serve this directory, so spelled, only.
    { name: "cwd", value: compilerCwd(req.cwd, req.env) },
    { name: "args", value: req.args },
    { name: "env", value: env },
    { name: "source", value: source.hash },
    { name: "inputs", value: keyInputs.map((i) => `${i.path}\u0000${i.hash}`) },
  ]);
  return { kind: "plan", plan: { tool, inv, key, sourceAbs, sourceHash: source.hash, clang, keyInputs, absentInputs: mappings.absent } };
}

function analysisServeJob(plan: AnalysisPlan, req: CompileRequest, ident: CompilerIdentity, ctx: PipelineContext, startedMs: number): ServeJob<CompileReply> {
  return {
    key: plan.key,
    startedMs,
    resolve: resolverFor(req.cwd),
    accepts: (entry) => entry.language === "analysis" && entry.outputs.length === 0,
    destination: () => null,
    deliverOutput: async () => ok(undefined),
    replay: (entry) => ok(storedReply(entry)),
    recordHit: (_entry, savedMs, outcome) => ctx.stats.record(outcome, "analysis", { savedMs }),
    miss: (missReason) => runAnalysisMiss(plan, missReason, req, ident, ctx),
  };
}
