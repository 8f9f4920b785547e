// A link or archive miss: run the real tool so it names every file it read, find the files
// it wrote next to its output, run the deploy hook, and store the lot unless anything about
// the run makes it unsafe to replay.
import * as fs from "node:fs";
import * as path from "node:path";
import { implicitSearchNames, libraryProbes } from "../../compilers/link/search.ts";
import { isBuildFile, isLinkSideFile, isTempName, outputDirOf } from "../../compilers/link/side-files.ts";
import { filesFromLinkerDepfile, splitLldVerbose } from "../../compilers/link/reports.ts";
import { withReentryMarker } from "../../platform/compiler-path.ts";
import { type Captured, runCapture } from "../../platform/exec.ts";
import { readIfExists, type StatSnapshot } from "../../platform/fsx.ts";
import { withScratch } from "../scratch.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import { describeOutcome, type MissReason, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { DepRecord, NewOutput } from "../../store/store.ts";
import { groupByDirectory } from "../absence.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import { changedFiles, type DirSnapshot, snapshotDir } from "./dir-snapshot.ts";
import { linkDetail } from "./hints.ts";
import { linkOutput } from "./outputs.ts";
import type { LinkPlan } from "./plan.ts";

const DEPLOY_TIMEOUT_MS = 10 * 60_000;
/** A file stamped by the coarse kernel clock can predate our own start by a tick. */
const CLOCK_SLACK_NS = 50_000_000n;

function tooNew(snap: StatSnapshot, startNs: bigint): boolean {
  return snap.mtimeNs >= startNs || snap.ctimeNs >= startNs;
}

function writtenSince(p: string, startNs: bigint): boolean {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  return st?.isFile() === true && st.mtimeNs >= startNs - CLOCK_SLACK_NS;
}

export function runLinkMiss(
  plan: LinkPlan,
  missReason: MissReason,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply> {
  return withScratch(ctx.tmpDir, "link", (privateDepfile) => linkAndStore(plan, missReason, req, ident, ctx, privateDepfile));
}

async function linkAndStore(
  plan: LinkPlan,
  missReason: MissReason,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
  privateDepfile: string,
): Promise<CompileReply> {
  const { inv, outputAbs } = plan;
  const { dir, base } = outputDirOf(outputAbs);
  const linking = inv.kind === "link";
  const sideNamed = linking ? [...inv.sideOutputs, ...(inv.userDepfile === null ? [] : [inv.userDepfile])] : [];
  const namedAbs = sideNamed.map((p) => path.resolve(req.cwd, p)).filter((p) => p !== outputAbs);
  // Every file of the output's directory: the link (and its hook) may write any of them.
  const keep = (name: string): boolean => linking && !isTempName(name);
  const before = snapshotDir(dir, keep);
  const windowStartMs = Date.now();

  const extraArgs: string[] = [];
  const deps = plan.deps;
  if (deps.kind === "depfile" && deps.userFile === null) extraArgs.push(...deps.addArgs(privateDepfile));
  if (deps.kind === "verbose") extraArgs.push(...deps.addArgs);

  // Timestamps have at most millisecond-ish granularity here; back off 1 ms to be safe.
  const startNs = BigInt(Date.now() - 1) * 1_000_000n;
  const startedMs = performance.now();
  const run: Captured = await runCapture([ident.path, ...req.args, ...extraArgs], { cwd: req.cwd, env: { ...req.env } });
  let stderr = run.stderr;
  let readFiles: string[] | null = [];
  if (deps.kind === "verbose") {
    const split = splitLldVerbose(run.stderr, req.cwd);
    if (deps.addArgs.length > 0) stderr = split.stderr;
    readFiles = split.files.length === 0 ? null : split.files;
  } else if (deps.kind === "depfile") {
    const depPath = deps.userFile === null ? privateDepfile : path.resolve(req.cwd, deps.userFile);
    const text = readIfExists(depPath);
    readFiles = text === null ? null : filesFromLinkerDepfile(text.toString("utf8"), req.cwd);
  }

  // Every input with its hash, once known (for explain).
  const seen: { inputs?: { path: string; hash: string }[] } = {};
  const result = (outcome: Outcome): CompileReply => {
    // Hints describe a stored result; an invocation that stored nothing carries none.
    const hints = outcome.kind === "miss" ? plan.hints : [];
    ctx.stats.record(outcome, "link", linkDetail({ output: outputAbs, hints, inputs: seen.inputs, ident, req, args: plan.args }));
    return { kind: "result", exitCode: run.exitCode, stdout: run.stdout, stderr, outcome: describeOutcome(outcome) };
  };
  const notStored = (reason: UncacheableReason): CompileReply => result({ kind: "uncacheable", reason });

  if (run.exitCode !== 0) return notStored("compile-failed");
  if (ctx.store === null) return notStored("cache-unavailable");
  if (readFiles === null) return notStored("too-hard");
  if (!writtenSince(outputAbs, startNs)) return notStored("no-output");

  // The inputs in the key must still be what we hashed, and nothing read may be newer than the run.
  for (const input of plan.keyInputs) {
    if (input.hash === "absent") continue;
    const f = ctx.files.facts(input.path);
    if (f === null || f.hash !== input.hash || tooNew(f.snapshot, startNs)) return notStored("racy-input");
  }
  const inKey = new Set(plan.keyInputs.map((i) => i.path));
  const depRecords: DepRecord[] = [];
  for (const p of new Set([...readFiles, ...plan.toolFiles])) {
    if (inKey.has(p) || p === outputAbs || p.startsWith(`${ctx.tmpDir}/`)) continue;
    const f = ctx.files.facts(p);
    if (f === null) return notStored("too-hard");
    if (tooNew(f.snapshot, startNs)) return notStored("racy-input");
    depRecords.push({ path: p, hash: f.hash });
  }

  // Nothing the link read is one of its side files (a file it read and rewrote is not cacheable).
  const read = new Set([...inKey, ...readFiles]);
  const afterLink = snapshotDir(dir, keep);
  // The directory is shared with the rest of a parallel build: a file another job of ours
  // wrote meanwhile is never taken, nor a source, header or object the link cannot have
  // written (it is someone else's); a file another program's entry owns would be fought over
  // by two entries' hits, so such a run is not stored at all.
  const mine = new Set([outputAbs, ...namedAbs]);
  const byOthers = (p: string): boolean => ctx.writes.writtenByOthers(p, windowStartMs, mine);
  const ownedElsewhere = (p: string): boolean => {
    const owner = ctx.writes.ownerOf(p);
    return owner !== undefined && owner !== outputAbs;
  };
  const buildFile = (p: string): boolean => !isLinkSideFile(path.basename(p), base) && isBuildFile(path.basename(p));
  const sides = changedFiles(dir, before, afterLink).filter((p) => !namedAbs.includes(p) && p !== outputAbs && !byOthers(p) && !buildFile(p));
  for (const p of namedAbs) if (writtenSince(p, startNs)) sides.push(p);
  if (sides.some((p) => read.has(p))) return notStored("too-hard");
  if (sides.some(ownedElsewhere)) return notStored("output-dir-race");

  let deployed: string[] = [];
  if (linking && plan.deployProblem !== null) {
    // The hook cannot run as written: say so once in the build, keep the link's result.
    stderr = Buffer.concat([stderr, Buffer.from(`zccache: ZCCACHE_LINK_DEPLOY_CMD: ${plan.deployProblem}; the deploy hook did not run\n`)]);
    return notStored("deploy-failed");
  }
  if (linking && plan.deploy !== null) {
    const hook = await runDeployHook(plan.deploy, outputAbs, req, dir, afterLink, keep);
    if (hook === null) return notStored("deploy-failed");
    deployed = hook.filter((p) => !sides.includes(p) && p !== outputAbs && !byOthers(p));
    if (deployed.some((p) => read.has(p))) return notStored("too-hard");
    // A hook may write anything: a source or object it (or someone we cannot tell from it)
    // wrote there cannot be told apart from the rest of the build's, so the run is not stored.
    if (deployed.some((p) => ownedElsewhere(p) || buildFile(p))) return notStored("output-dir-race");
  }

  const check = ctx.absence.pass();
  const libDirs = new Set(plan.probeDirs);
  for (const d of depRecords) if (/^lib.*\.(a|so)$/.test(path.basename(d.path))) libDirs.add(path.dirname(d.path));
  const implicit = implicitSearchNames(depRecords.map((d) => d.path));
  const probes = linking ? [...libraryProbes(inv.libs, [...libDirs]), ...[...libDirs].flatMap((d) => implicit.map((n) => path.join(d, n)))] : [];
  const absent = groupByDirectory(probes.filter((p) => check(path.dirname(p), [path.basename(p)])));

  const outputs: NewOutput[] = [];
  try {
    for (const p of sides) outputs.push(linkOutput("side", p));
    for (const p of deployed) outputs.push(linkOutput("deploy", p));
    outputs.push(linkOutput("output", outputAbs));
  } catch {
    return notStored("no-output");
  }
  seen.inputs = [...plan.keyInputs, ...depRecords];
  const linkMs = performance.now() - startedMs;
  const put = await ctx.store.put(
    plan.key,
    {
      // Side files beside a name-free output may be named after it: that entry keeps its name.
      // So may messages ("creating lib1.a", a map on stdout, a warning about the output).
      ...(plan.nameFree && (outputs.length > 1 || namesOutput(run.stdout, outputAbs) || namesOutput(stderr, outputAbs))
        ? { outputBinding: outputAbs }
        : {}),
      deps: depRecords,
      absent,
      exitCode: 0,
      stdout: run.stdout.toString("base64"),
      stderr: stderr.toString("base64"),
      language: "link",
      compileMs: Math.round(linkMs),
    },
    outputs,
  );
  if (!put.ok) ctx.stats.error("store-write-failed", put.error.detail);
  else for (const o of outputs) ctx.writes.own(o.path, outputAbs);
  return result({ kind: "miss", reason: missReason });
}

/**
 * Runs `hook… <output>` after a successful link, in the output's directory with the build's
 * environment. Returns the files it wrote or changed in that directory, or null when it
 * failed: the link still succeeds, uncached.
 */
async function runDeployHook(
  words: readonly string[],
  outputAbs: string,
  req: CompileRequest,
  dir: string,
  before: DirSnapshot,
  keep: (name: string) => boolean,
): Promise<string[] | null> {
  try {
    // The program as the shell would find it from the output's directory, with the build's PATH.
    const [program, ...rest] = words;
    if (program === undefined) return null;
    const exe = program.includes("/") ? path.resolve(dir, program) : Bun.which(program, { PATH: req.env.PATH ?? "", cwd: dir });
    if (exe === null) return null;
    const proc = Bun.spawn([exe, ...rest, outputAbs], {
      cwd: dir,
      env: withReentryMarker(req.env),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), DEPLOY_TIMEOUT_MS);
    const code = await proc.exited;
    clearTimeout(timer);
    if (code !== 0 || proc.signalCode !== null) return null;
  } catch {
    return null;
  }
  return changedFiles(dir, before, snapshotDir(dir, keep));
}

/** Whether a tool's message names its output (by its file name, however it was spelled). */
function namesOutput(text: Buffer, outputAbs: string): boolean {
  return text.length > 0 && text.includes(path.basename(outputAbs));
}
