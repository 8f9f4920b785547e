// An analysis miss: run the tool as asked and, beside it, the matching clang preprocessing
// the same compile (`-E -H -MD -MF <private>`) to learn every header the analysed file read;
// store the tool's answer unless the run failed to analyse or an input moved meanwhile.
import * as path from "node:path";
import { ccHeadersAfterRun, withoutOutputOptions } from "../../compilers/cc/plan.ts";
import { searchOrder } from "../../compilers/cc/search-path.ts";
import { configCandidate, configSearchDirs } from "../../compilers/tidy/config-files.ts";
import { joinPhysical } from "../../platform/paths.ts";
import { compilerCwd } from "../../platform/relative-paths.ts";
import { runCapture } from "../../platform/exec.ts";
import { changedSince, readIfExists } from "../../platform/fsx.ts";
import { withScratch } from "../scratch.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import { describeOutcome, type MissReason, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { DepRecord } from "../../store/store.ts";
import { groupByDirectory } from "../absence.ts";
import { ccProbes, presentInputs } from "../cc-probes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import type { AnalysisPlan } from "./handle.ts";

/** What a tool prints when it could not parse the file (then its answer is not an analysis). */
const FAILED_ANALYSIS = [
  "[clang-diagnostic-error]",
  "Found compiler error",
  "Error while processing",
  "PLEASE submit a bug report",
  "Stack dump:",
];

/** A clang error line (`file:1:2: error: …`, `fatal error: …`, `error: …`): the parse failed. */
const CLANG_ERROR_LINE = /(^|\n)([^\n]*: )?(fatal )?error: /;

/**
 * Whether the run analysed the file: clang-tidy exits 0, or 1 for warnings treated as
 * errors; include-what-you-use exits with the code its `--error` asks for. A signal, or a
 * tool that says it could not parse, is not an analysis.
 */
export function analysed(tool: AnalysisPlan["tool"], exitCode: number, stdout: Buffer, stderr: Buffer): boolean {
  if (exitCode < 0 || exitCode >= 128) return false;
  if (FAILED_ANALYSIS.some((m) => stdout.includes(m) || stderr.includes(m))) return false;
  if (tool === "clang-tidy") return exitCode === 0 || exitCode === 1;
  return !CLANG_ERROR_LINE.test(stderr.toString("utf8"));
}

export function runAnalysisMiss(
  plan: AnalysisPlan,
  missReason: MissReason,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply> {
  return withScratch(ctx.tmpDir, "analysis", (privateDepfile) => analyseAndStore(plan, missReason, req, ident, ctx, privateDepfile));
}

async function analyseAndStore(
  plan: AnalysisPlan,
  missReason: MissReason,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
  privateDepfile: string,
): Promise<CompileReply> {
  const { inv, clang } = plan;
  // Timestamps have at most millisecond-ish granularity here; back off 1 ms to be safe.
  const startNs = BigInt(Date.now() - 1) * 1_000_000n;
  const startedMs = performance.now();
  const env = { ...req.env };
  const ppArgs = [
    clang.clang.path,
    "-resource-dir",
    clang.resourceDir,
    ...withoutOutputOptions(inv.compileArgs),
    "-E",
    "-H",
    "-MD",
    "-MF",
    privateDepfile,
    "-o",
    "/dev/null",
  ];
  const [run, pre] = await Promise.all([
    runCapture([ident.path, ...req.args], { cwd: req.cwd, env }),
    runCapture(ppArgs, { cwd: req.cwd, env }),
  ]);
  const runMs = performance.now() - startedMs;
  const result = (outcome: Outcome): CompileReply => {
    ctx.stats.record(outcome, "analysis");
    return { kind: "result", exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, outcome: describeOutcome(outcome) };
  };
  const notStored = (reason: UncacheableReason): CompileReply => result({ kind: "uncacheable", reason });

  if (!analysed(plan.tool, run.exitCode, run.stdout, run.stderr)) return notStored("compile-failed");
  if (ctx.store === null) return notStored("cache-unavailable");
  const depText = readIfExists(privateDepfile);
  if (pre.exitCode !== 0 || depText === null) return notStored("too-hard");
  const { headers } = ccHeadersAfterRun(
    { kind: "separate-trace", args: [], depfile: privateDepfile },
    Buffer.alloc(0),
    pre.stderr,
    depText.toString("utf8"),
    req.cwd,
    plan.sourceAbs,
  );
  if (headers === null) return notStored("too-hard");

  // What the key holds by content must still be what we hashed, and untouched since the start.
  const source = ctx.files.facts(plan.sourceAbs);
  if (source === null || source.hash !== plan.sourceHash || changedSince(source.snapshot, startNs)) return notStored("racy-input");
  // As for a C/C++ compile: __DATE__ and friends differ every run; .incbin and
  // `#pragma GCC dependency` read what no depfile names (the latter compares mtimes).
  if (source.timeMacros) return notStored("time-macro");
  if (source.opaqueInputs) return notStored("too-hard");
  for (const input of plan.keyInputs) {
    const f = ctx.files.facts(input.path);
    if (f === null || f.hash !== input.hash || changedSince(f.snapshot, startNs)) return notStored("racy-input");
  }
  const deps: DepRecord[] = [];
  for (const h of headers.keys()) {
    const f = ctx.files.facts(h);
    if (f === null || changedSince(f.snapshot, startNs)) return notStored("racy-input");
    if (f.timeMacros) return notStored("time-macro");
    if (f.opaqueInputs) return notStored("too-hard");
    deps.push({ path: h, hash: f.hash });
  }

  // Where a new file would change what the tool reads: shadowing headers, __has_include
  // answers (as for a C/C++ compile), and `.clang-tidy` files in every directory searched.
  const lang = inv.cc.sources[0]?.language ?? "c";
  let systemDirs: string[];
  try {
    systemDirs = await ctx.systemDirs.get(clang.clang.path, clang.clang.hash, lang, inv.cc.modelArgs, env, req.cwd);
  } catch {
    return notStored("too-hard");
  }
  const order = searchOrder(inv.cc, inv.source, lang, systemDirs, req.cwd, env);
  const probes = await ccProbes({
    family: "clang",
    compilerPath: clang.clang.path,
    args: inv.compileArgs,
    modelArgs: inv.cc.modelArgs,
    cwd: req.cwd,
    env,
    sourceAbs: plan.sourceAbs,
    headers,
    order,
    systemDirs,
    files: ctx.files,
  });
  if (!probes.ok) return notStored(probes.why);
  // The tool names files through $PWD when that is the cwd entered by a symlink: look in
  // the directories it walks then, as spelled, as well as in the real ones.
  const logicalCwd = compilerCwd(req.cwd, env);
  const logical = logicalCwd === req.cwd ? [] : [joinPhysical(logicalCwd, inv.source), ...[...headers.keys()].map((h) => relocated(h, req.cwd, logicalCwd))];
  const configProbes = inv.readsDirConfig ? configSearchDirs([plan.sourceAbs, ...headers.keys(), ...logical]).map(configCandidate) : [];
  const check = ctx.absence.pass();
  const absentPaths: string[] = [];
  for (const p of new Set([...probes.probes, ...configProbes, ...plan.absentInputs])) {
    if (check(path.dirname(p), [path.basename(p)])) {
      absentPaths.push(p);
      continue;
    }
    const present = presentInputs(p, ctx.files, startNs);
    if (present === null) return notStored("racy-input");
    for (const d of present) if (!deps.some((x) => x.path === d.path)) deps.push(d);
  }

  const put = await ctx.store.put(
    plan.key,
    {
      deps,
      absent: groupByDirectory(absentPaths),
      exitCode: run.exitCode,
      stdout: run.stdout.toString("base64"),
      stderr: run.stderr.toString("base64"),
      language: "analysis",
      compileMs: Math.round(runMs),
    },
    [],
  );
  if (!put.ok) ctx.stats.error("store-write-failed", put.error.detail);
  return result({ kind: "miss", reason: missReason });
}

/** `p` under `logicalCwd` when it is under `realCwd` (a header named relative to the cwd), else as it is. */
function relocated(p: string, realCwd: string, logicalCwd: string): string {
  return p.startsWith(`${realCwd}/`) ? `${logicalCwd}${p.slice(realCwd.length)}` : p;
}
