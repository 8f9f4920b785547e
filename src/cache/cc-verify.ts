// How a C/C++ compile is run again to check a hit (daemon/verify.ts): the job's own run, as
// a miss runs it (ccRunPlan, the build's prefix maps), with every output it writes pointed
// into a private scratch directory, so nothing of the build's tree is touched.
import * as path from "node:path";
import type { CcInvocation } from "../compilers/cc/args.ts";
import { outputPathFor, sideOutputPath } from "../compilers/cc/args.ts";
import type { Terminal } from "../compilers/cc/color.ts";
import { depfileTargets, renderDepfile } from "../compilers/cc/depfile-template.ts";
import { type CcJob, ccRunPlan } from "../compilers/cc/plan.ts";
import { keyMode, type Relocation, remapArgs } from "../compilers/cc/relocate.ts";
import type { CcFamily } from "../compilers/family.ts";
import type { ContentHash } from "../platform/hash.ts";
import { compilerCwd } from "../platform/relative-paths.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import type { PathResolver } from "../serve/adapter.ts";
import type { StoredEntry } from "../store/store.ts";
import { ccFieldsOf } from "./cc-entry.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";

/** Everything a hit knows that compiling it again needs (OutcomeDetail.verify, from cc-serve.ts). */
export interface CcVerifyTarget {
  readonly key: string;
  readonly entry: StoredEntry;
  readonly job: CcJob;
  readonly inv: CcInvocation;
  readonly family: CcFamily;
  readonly terminal: Terminal;
  readonly ident: CompilerIdentity;
  readonly req: CompileRequest;
  readonly relocation: Relocation;
  readonly sourceHash: ContentHash;
  readonly resolve: PathResolver;
}

/** The compile's settings the run depends on: a hit's, or those `verify --session` derives from the journal. */
export type ScratchInput = Pick<CcVerifyTarget, "job" | "inv" | "family" | "terminal" | "relocation"> & {
  readonly compilerPath: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
};

export type ScratchPlan =
  | {
      readonly kind: "run";
      /** The compiler and its arguments (no priority prefix). */
      readonly argv: readonly string[];
      /** Where the run writes each role the job writes (object, depfile, side files). */
      readonly outputs: ReadonlyMap<string, string>;
      /** The depfile our run adds when the user asked for none (not compared; lists the inputs). */
      readonly privateDepfile: string;
    }
  | { readonly kind: "not-verifiable" | "unsupported"; readonly why: string };

/** Options whose value names an output: left out, and given again pointing into scratch. */
const REDIRECTED = ["-o", "-MF"] as const;

/** Words after which a pass-through writes a file: depfiles, outputs, assembler listings. */
const WRITING_WORD = /^(-M|-o|-a|--MD)/;

/**
 * Pass-throughs can name files the option table does not see (`-Wp,-MD,x.d`, `-Wa,-a=x.lst`):
 * the run must not write outside scratch. The classifier refuses those today; this is the
 * check that keeps it so for the runs here, whatever the classifier learns to accept.
 */
function writesUnseenFiles(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    let words: readonly string[];
    if (a.startsWith("-Wp,") || a.startsWith("-Wa,")) words = a.slice(4).split(",");
    else if (a === "-Xpreprocessor" || a === "-Xclang" || a === "-Xassembler" || a === "-mllvm") words = [args[i + 1] ?? ""];
    else continue;
    if (words.some((w) => WRITING_WORD.test(w))) return a;
  }
  return null;
}

/** The job's arguments without the output names REDIRECTED lists (joined or separate). */
function withoutOutputNames(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const named = REDIRECTED.find((o) => a.startsWith(o));
    if (named !== undefined) {
      if (a === named) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * The run of `s` with its outputs in `dir` (which must exist and be empty), or why it cannot
 * be run: emcc is not verified yet; output names inside the outputs (relocate.ts keyMode:
 * namesBound) would differ in scratch by construction; a pass-through may write elsewhere.
 */
export function scratchPlan(s: ScratchInput, dir: string): ScratchPlan {
  if (s.family === "emcc") return { kind: "unsupported", why: "emcc compiles are not verified yet" };
  if (keyMode(s.job.args, s.relocation).namesBound) {
    return { kind: "not-verifiable", why: "an option writes the output names into the outputs (split DWARF, coverage, dumps, …)" };
  }
  const unseen = writesUnseenFiles(s.job.args);
  if (unseen !== null) return { kind: "not-verifiable", why: `the pass-through ${unseen} may write files that cannot be redirected` };
  const object = path.join(dir, "obj", path.basename(s.job.objectPath));
  const depfile = s.job.userDepfile === null ? null : path.join(dir, "dep", path.basename(s.job.userDepfile));
  const args = withoutOutputNames(s.job.args);
  args.push("-o", object);
  if (depfile !== null) {
    args.push("-MF", depfile);
    // The depfile's target is the output as the user named it, not our scratch name.
    if (!s.job.args.some((a) => a.startsWith("-MT") || a.startsWith("-MQ"))) args.push("-MQ", outputPathFor(s.inv, s.job.source));
  }
  const sideOutputs = s.job.sideOutputs.map((side) => ({ kind: side.kind, path: sideOutputPath(object, side.kind) }));
  const job: CcJob = { ...s.job, args, objectPath: object, userDepfile: depfile, sideOutputs };
  const privateDepfile = path.join(dir, "private.d");
  const plan = ccRunPlan(job, s.inv, s.family, s.terminal, privateDepfile);
  const outputs = new Map<string, string>([["object", object]]);
  if (depfile !== null) outputs.set("depfile", depfile);
  for (const side of sideOutputs) outputs.set(side.kind, side.path);
  return {
    kind: "run",
    argv: [s.compilerPath, ...plan.args, ...remapArgs(compilerCwd(s.cwd, s.env), s.relocation)],
    outputs,
    privateDepfile,
  };
}

/** The user's depfile as the hit wrote it, when the entry describes it rather than stores it. */
export function renderedDepfile(t: Pick<CcVerifyTarget, "entry" | "job" | "inv" | "req">): string | null {
  const tpl = ccFieldsOf(t.entry)?.ccDepfile;
  if (tpl === undefined || t.job.userDepfile === null) return null;
  return renderDepfile(tpl, depfileTargets(t.job.args, outputPathFor(t.inv, t.job.source)), t.req.cwd);
}
