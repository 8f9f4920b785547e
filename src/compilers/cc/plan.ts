// Turns a classified gcc/clang invocation into per-source jobs: what goes in the key,
// how to run a miss so the compiler names every header it read, and which files it writes.
import * as path from "node:path";
import type { KeyField } from "../../cache/key.ts";
import {
  type CcInvocation,
  isPreprocessed,
  type Language,
  outputPathFor,
  type SideOutputKind,
  type SourceFile,
  sideOutputPath,
  userDepfilePath,
} from "./args.ts";
import { parseDepfile } from "./depfile.ts";
import { splitHeaderTrace } from "./header-trace.ts";

/** Environment variables gcc and clang read that can change the object or the diagnostics. */
export const CC_KEY_ENV_VARS = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "SOURCE_DATE_EPOCH",
  "GCC_EXEC_PREFIX",
  "COMPILER_PATH",
  "GCC_COLORS",
  "GCC_URLS",
  "TERM_URLS",
  "CCC_OVERRIDE_OPTIONS",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
] as const;

/** Variables that make the compiler write files we do not know about. */
export const CC_UNCACHEABLE_ENV_VARS = ["DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"] as const;

export type ColorMode = "tty" | "pipe";

export interface CcJob {
  readonly source: SourceFile;
  readonly sourceAbs: string;
  /** The user's arguments for this source alone. */
  readonly args: readonly string[];
  readonly objectPath: string;
  readonly userDepfile: string | null;
  readonly sideOutputs: readonly { readonly kind: SideOutputKind; readonly path: string }[];
  readonly language: Language;
}

export function ccJobs(inv: CcInvocation, cwd: string): CcJob[] {
  const others = (keep: SourceFile): string[] =>
    inv.args.filter((_, i) => !inv.sources.some((s) => s !== keep && s.argIndex === i));
  return inv.sources.map((src) => {
    const objectPath = path.resolve(cwd, outputPathFor(inv, src));
    const dep = userDepfilePath(inv, src);
    return {
      source: src,
      sourceAbs: path.resolve(cwd, src.path),
      args: inv.sources.length === 1 ? inv.args : others(src),
      objectPath,
      userDepfile: dep === null ? null : path.resolve(cwd, dep),
      sideOutputs: inv.sideOutputs.map((kind) => ({ kind, path: sideOutputPath(objectPath, kind) })),
      language: src.language,
    };
  });
}

export interface CcKeyInputs {
  readonly compilerHash: string;
  readonly invokedName: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly colorMode: ColorMode;
  readonly sourceHash: string;
}

export function ccKeyFields(job: CcJob, k: CcKeyInputs): KeyField[] {
  const envPairs = CC_KEY_ENV_VARS.filter((v) => k.env[v] !== undefined).map((v) => `${v}=${k.env[v]}`);
  return [
    { name: "compiler", value: k.compilerHash },
    { name: "invoked-as", value: k.invokedName },
    // The cwd is embedded in debug info and coverage notes, and relative -I paths resolve against it.
    { name: "cwd", value: k.cwd },
    { name: "args", value: job.args },
    { name: "env", value: envPairs },
    { name: "color", value: k.colorMode },
    { name: "source", value: k.sourceHash },
  ];
}

/** How the header list is obtained on a miss. */
export type HeaderSource = "private-depfile" | "user-depfile" | "header-trace" | "none";

export function ccRunPlan(
  job: CcJob,
  inv: CcInvocation,
  privateDepfile: string,
  colorMode: ColorMode,
): { args: string[]; headers: HeaderSource } {
  const args = [...job.args];
  if (colorMode === "tty") args.push("-fdiagnostics-color=always");
  if (isPreprocessed(job.language)) return { args, headers: "none" };
  switch (inv.deps.style) {
    case "none":
      args.push("-MD", "-MF", privateDepfile);
      return { args, headers: "private-depfile" };
    case "md":
      return { args, headers: "user-depfile" };
    case "mmd":
      // -MMD leaves system headers out of the user's depfile; -H lists them all on stderr.
      args.push("-H");
      return { args, headers: "header-trace" };
  }
}

/** Extracts the header list after a successful miss; stderr is returned without any -H trace. */
export function ccHeadersAfterRun(
  how: HeaderSource,
  depfileText: string | null,
  stderr: Buffer,
  cwd: string,
  sourceAbs: string,
): { headers: string[] | null; stderr: Buffer } {
  let raw: string[] | null;
  let cleaned = stderr;
  switch (how) {
    case "none":
      raw = [];
      break;
    case "private-depfile":
    case "user-depfile":
      raw = depfileText === null ? null : parseDepfile(depfileText);
      break;
    case "header-trace": {
      const t = splitHeaderTrace(stderr);
      raw = t.headers;
      cleaned = t.stderr;
      break;
    }
  }
  if (raw === null) return { headers: null, stderr: cleaned };
  const seen = new Set<string>();
  const headers: string[] = [];
  for (const h of raw) {
    const abs = path.resolve(cwd, h);
    if (abs === sourceAbs || seen.has(abs)) continue;
    seen.add(abs);
    headers.push(abs);
  }
  return { headers, stderr: cleaned };
}
