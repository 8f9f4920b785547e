// Answers `zccache verify --session ID`: every output a session's hits delivered is compiled
// again from its journal line (compiler, arguments, cwd; the asking command's environment
// with the line's recorded variables on top) into a scratch dir and compared byte for byte
// with the output's current bytes on disk. Serial, at normal priority: the user is waiting.
import * as fs from "node:fs";
import * as path from "node:path";
import { type ScratchInput } from "../../cache/cc-verify.ts";
import { resolveCompiler } from "../../cache/compiler-identity.ts";
import { classifyCc } from "../../compilers/cc/args.ts";
import { parseDepfile } from "../../compilers/cc/depfile.ts";
import { ccJobs } from "../../compilers/cc/plan.ts";
import { expandResponseFiles } from "../../compilers/cc/response-files.ts";
import { compilerFamily } from "../../compilers/family.ts";
import { loadConfig } from "../../config/config.ts";
import type { ResponseBody } from "../../protocol/messages.ts";
import type { VerifiedOutput, VerifyReport } from "../../protocol/verify-report.ts";
import type { DaemonState } from "../state.ts";
import { JOURNAL_ENV_ALLOWLIST, journalGenerations, journalLines } from "../journal.ts";
import { type ComparedOutput, compareOutputs, describeDifference } from "../verify-compare.ts";
import { compileFresh, newScratchDir, reproduces } from "../verify.ts";

/** What a hit's journal line says about how to compile it again. */
interface HitLine {
  readonly atMs: number;
  readonly outcome: string;
  readonly language: string;
  readonly compiler: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly output: string | null;
  readonly env: Readonly<Record<string, string>>;
}

/** The outputs' mtimes may trail the journal line (written after the reply) by this much. */
const HIT_WRITE_SLACK_MS = 1000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decodeLine(raw: Record<string, unknown>): HitLine | null {
  const { ts, outcome, language, compiler, args, cwd, output, env } = raw;
  const atMs = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(atMs) || typeof outcome !== "string" || typeof compiler !== "string" || typeof cwd !== "string") return null;
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) return null;
  const vars: Record<string, string> = {};
  if (isRecord(env)) for (const [k, v] of Object.entries(env)) if (typeof v === "string") vars[k] = v;
  return {
    atMs,
    outcome,
    language: typeof language === "string" ? language : "other",
    compiler,
    args: args as string[],
    cwd,
    output: typeof output === "string" ? output : null,
    env: vars,
  };
}

/** The session's journal lines (previous generation first), with what a re-run needs. */
function sessionLines(file: string, session: string): HitLine[] {
  const out: HitLine[] = [];
  for (const raw of journalLines(journalGenerations(file), `"session":${JSON.stringify(session)}`, (r) => r.session === session)) {
    const l = decodeLine(raw);
    if (l !== null) out.push(l);
  }
  return out;
}

const isHit = (l: HitLine): boolean => l.outcome === "hit" || l.outcome === "remote-hit";

function mtimeMs(p: string): number | null {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return null;
  }
}

type Checked = Omit<VerifiedOutput, "output">;
const skipped = (detail: string): Checked => ({ status: "skipped", detail });

export async function verifySessionHandler(
  req: { readonly id: string; readonly env: Readonly<Record<string, string>> },
  state: DaemonState,
): Promise<ResponseBody> {
  const settings = loadConfig(state.ep.cacheRoot, req.env);
  if (!settings.ok) return { type: "error", code: "bad-setting", message: settings.error };
  const relocation = { baseDirs: settings.value.baseDirs.value, remap: settings.value.pathRemap.value };
  const file = state.journal.file;
  const lines = file === null ? [] : sessionLines(file, req.id);
  if (lines.length === 0 && state.sessions.get(req.id) === undefined) return { type: "report", report: null };
  // The last line for each output decides: a hit later compiled again is not what is on disk.
  const last = new Map<string, HitLine>();
  const hitOutputs: string[] = [];
  for (const l of lines) {
    if (l.output === null) continue;
    last.set(l.output, l);
    if (isHit(l) && !hitOutputs.includes(l.output)) hitOutputs.push(l.output);
  }
  const results: VerifiedOutput[] = [];
  for (const output of hitOutputs) {
    const line = last.get(output) as HitLine;
    const checked = isHit(line)
      ? await verifyHit(line, output, req.env, relocation, state)
      : skipped(`compiled again after its hit in this session (${line.outcome})`);
    results.push({ output, ...checked });
  }
  const report: VerifyReport = { session_id: req.id, hits: lines.filter(isHit).length, results };
  return { type: "report", report: { ...report } };
}

async function verifyHit(
  line: HitLine,
  output: string,
  askerEnv: Readonly<Record<string, string>>,
  relocation: ScratchInput["relocation"],
  state: DaemonState,
): Promise<Checked> {
  if (line.language === "rust" || line.language === "link") return skipped("Rust and link outputs are not verified yet");
  // The build's own values of what the journal records; one it did not have was unset there.
  const env: Record<string, string> = { ...askerEnv, PWD: line.cwd };
  for (const k of JOURNAL_ENV_ALLOWLIST) delete env[k];
  Object.assign(env, line.env);
  const compilerPath = resolveCompiler(line.compiler, line.cwd, env.PATH ?? "", null);
  if (compilerPath === null) return skipped(`compiler ${line.compiler} not found on this PATH`);
  const ident = state.ctx.compilers.identify(compilerPath);
  const family = ident === null ? null : compilerFamily(path.basename(line.compiler), ident.realName);
  if (family === "emcc") return skipped("emcc compiles are not verified yet");
  if (family !== "gcc" && family !== "clang") return skipped(`${line.compiler} is not a C/C++ compiler here`);
  const expanded = expandResponseFiles(line.args, line.cwd);
  if (!expanded.ok) return skipped(`its response files cannot be read now: ${expanded.error}`);
  const cls = classifyCc(expanded.value.args, family);
  if (cls.kind !== "compile") return skipped(`the command no longer classifies as a compile (${cls.reason})`);
  const job = ccJobs(cls.inv, line.cwd).find((j) => j.objectPath === output);
  if (job === undefined) return skipped("the command no longer writes this output");
  const written = mtimeMs(output);
  if (written === null) return skipped("the output is gone");
  if (written > line.atMs + HIT_WRITE_SLACK_MS) return skipped("the output was written again after the hit");
  const input: ScratchInput = {
    job,
    inv: cls.inv,
    family,
    terminal: { colorMode: "pipe", messageLength: null, caretColumns: null },
    relocation,
    compilerPath,
    cwd: line.cwd,
    env,
  };
  const tmpDir = state.ctx.tmpDir;
  // The outputs as they are before the fresh compile: one rewritten meanwhile gives no verdict.
  const stamp = (p: string): string => {
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? "absent" : `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  };
  const outputsOnDisk = [job.objectPath, ...(job.userDepfile === null ? [] : [job.userDepfile]), ...job.sideOutputs.map((x) => x.path)];
  const before = new Map(outputsOnDisk.map((p) => [p, stamp(p)]));
  const dir = newScratchDir(tmpDir);
  try {
    const fresh = await compileFresh(input, dir, []);
    if (fresh.kind !== "ran") return skipped(fresh.why);
    const read = [job.sourceAbs, ...(fresh.inputsDepfile === null ? [] : parseDepfile(fresh.inputsDepfile).map((p) => path.resolve(line.cwd, p)))];
    const changed = read.find((p) => (mtimeMs(p) ?? 0) > line.atMs);
    if (changed !== undefined) return skipped(`${changed} changed after the hit`);
    const onDisk = (role: string): string | null =>
      role === "object" ? job.objectPath : role === "depfile" ? job.userDepfile : (job.sideOutputs.find((s) => s.kind === role)?.path ?? null);
    const compared: ComparedOutput[] = [];
    for (const [role, bytes] of fresh.outputs) {
      const p = onDisk(role);
      if (p === null) continue;
      let expected: Buffer | null = null;
      try {
        expected = fs.readFileSync(p);
      } catch {
        expected = null;
      }
      // A rebuild may have rewritten it while the fresh compile ran: that is no verdict.
      if (before.get(p) !== stamp(p)) return skipped("the output was written again after the hit");
      compared.push({ role, path: p, expected, fresh: bytes });
    }
    const differences = compareOutputs(compared);
    if (differences.length === 0) return { status: "ok", detail: "" };
    const detail = differences.map((d) => describeDifference(d, "on disk")).join("; ");
    return (await reproduces(input, fresh.outputs, tmpDir, [])) ? { status: "mismatch", detail } : { status: "nondeterministic", detail };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
