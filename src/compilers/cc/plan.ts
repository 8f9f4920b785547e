// Turns a classified gcc/clang invocation into per-source jobs: what goes in the key,
// how to run a miss so the compiler names every header it read, and which files it writes.
import * as fs from "node:fs";
import { joinPhysical } from "../../platform/paths.ts";
import type { KeyField } from "../../cache/key.ts";
import type { CcFamily } from "../family.ts";
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
import { type ColorMode, colorArgs, type Terminal } from "./color.ts";
import { parseDepfile } from "./depfile.ts";
import { splitHeaderTrace } from "./header-trace.ts";

/** Include path variables: `:`-separated directories, searched like -I/-isystem ones. */
export const INCLUDE_PATH_VARS: readonly string[] = ["CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH", "OBJCPLUS_INCLUDE_PATH"];

/** emscripten's settings, each also overridden by an `EM_<name>` variable (tools/config.py). */
export const EMSCRIPTEN_CONFIG_KEYS = [
  "NODE_JS",
  "BINARYEN_ROOT",
  "SPIDERMONKEY_ENGINE",
  "V8_ENGINE",
  "LLVM_ROOT",
  "LLVM_ADD_VERSION",
  "CLANG_ADD_VERSION",
  "CLOSURE_COMPILER",
  "JAVA",
  "JS_ENGINE",
  "JS_ENGINES",
  "WASMER",
  "WASMTIME",
  "WASM_ENGINES",
  "FROZEN_CACHE",
  "CACHE",
  "PORTS",
  "COMPILER_WRAPPER",
] as const;

/**
 * Variables that make emcc log its steps, keep its temporaries or write elsewhere what a
 * hit would not (EMCC_DEBUG, EMCC_VERBOSE, EMCC_STDERR_FILE, EMPROFILE, …), or run every
 * clang through a program of the user's (EM_COMPILER_WRAPPER): such a compile or link runs
 * uncached, unless the value is one emcc reads as off (see emccEnvOff).
 */
export const EMCC_UNCACHEABLE_ENV_VARS = [
  "EM_COMPILER_WRAPPER",
  "EMCC_DEBUG",
  "EMCC_DEBUG_SAVE",
  "EMCC_VERBOSE",
  "EMCC_STDERR_FILE",
  "EMPROFILE",
  "EMCC_SAVE_OPT_TEMP",
  "EM_BUILD_VERBOSE",
  "BINARYEN_PASS_DEBUG",
] as const;

/**
 * Whether emcc reads this variable's value as off: unset; "" for the ones naming a program
 * or file (emcc tests them for truth); "0" for the numeric ones (int() of anything else is
 * on, or an error).
 */
export function emccEnvOff(name: (typeof EMCC_UNCACHEABLE_ENV_VARS)[number], value: string | undefined): boolean {
  if (value === undefined) return true;
  return name === "EM_COMPILER_WRAPPER" || name === "EMCC_STDERR_FILE" ? value === "" : value === "0";
}

/** The OS versions an Apple target is built for when no option names one (clang, rustc). */
export const APPLE_TARGET_ENV_VARS = [
  "MACOSX_DEPLOYMENT_TARGET",
  "IPHONEOS_DEPLOYMENT_TARGET",
  "TVOS_DEPLOYMENT_TARGET",
  "WATCHOS_DEPLOYMENT_TARGET",
  "XROS_DEPLOYMENT_TARGET",
  "DRIVERKIT_DEPLOYMENT_TARGET",
] as const;

/** Environment variables gcc, clang and emcc read that can change the object or the diagnostics. */
export const CC_KEY_ENV_VARS = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "OBJCPLUS_INCLUDE_PATH",
  // clang's default sysroot on Darwin targets.
  "SDKROOT",
  "SOURCE_DATE_EPOCH",
  "GCC_EXEC_PREFIX",
  "COMPILER_PATH",
  "GCC_COLORS",
  "GCC_EXTRA_DIAGNOSTIC_OUTPUT",
  "COLUMNS",
  "GCC_URLS",
  "TERM_URLS",
  "CCC_OVERRIDE_OPTIONS",
  // clang 16+ reads no default configuration file when set (cache/driver-config.ts).
  "CLANG_NO_DEFAULT_CONFIG",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  // gettext's list of message languages: it wins over LC_MESSAGES for gcc's diagnostics.
  "LANGUAGE",
  ...APPLE_TARGET_ENV_VARS,
  // emcc/em++: extra arguments, the config and cache it reads, the programs it runs.
  "EMCC_CFLAGS",
  "EMMAKEN_CFLAGS",
  "EMCC_FORCE_STDLIBS",
  "EMCC_ONLY_FORCED_STDLIBS",
  "EMCC_STRICT",
  "EMCC_CLOSURE_ARGS",
  "EMSDK_PYTHON",
  "EM_CONFIG",
  ...EMSCRIPTEN_CONFIG_KEYS.map((k) => `EM_${k}` as const),
  // Read when the configuration does not set them.
  "LLVM_ADD_VERSION",
  "CLANG_ADD_VERSION",
  "EMCC_AUTODEBUG",
  // Read as a number by emcc ("0" is off), as true by its file packager and source-map
  // writer ("0" is on): a link's messages depend on the value.
  "EMCC_DEBUG",
  // A link in configure mode: another output (a `#!` line, NODERAWFS).
  "EMMAKEN_JUST_CONFIGURE",
  // The producer string LLVM records in bitcode (-flto objects).
  "LLVM_OVERRIDE_PRODUCER",
] as const;

/** Variables that make the compiler write files we do not know about. */
// GCC_SPECS: Gentoo's gcc reads the specs files it names.
// GCC_COMPARE_DEBUG: gcc compiles twice, can fail where one compile succeeds, and with
// options writes dump files.
export const CC_UNCACHEABLE_ENV_VARS = ["DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES", "GCC_SPECS", "GCC_COMPARE_DEBUG"] as const;

/**
 * Variables clang's driver acts on when they are set at all (emcc's clang too): options
 * changed where we cannot see (CCC_OVERRIDE_OPTIONS); the command lines, headers,
 * diagnostics or process statistics of each run printed or appended to a file
 * (`CC_PRINT_OPTIONS`, … with their `_FILE` companions), which a hit would not do; the
 * command line recorded in the debug info of Apple targets (RC_DEBUG_OPTIONS), which would
 * hold our own depfile option; a deliberate crash. Such a compile or link runs uncached.
 */
export const CLANG_UNCACHEABLE_ENV_VARS = [
  "CCC_OVERRIDE_OPTIONS",
  "CC_PRINT_OPTIONS",
  "CC_PRINT_HEADERS",
  "CC_LOG_DIAGNOSTICS",
  "CC_PRINT_PROC_STAT",
  "CC_PRINT_INTERNAL_STAT",
  "RC_DEBUG_OPTIONS",
  // Makes every clang run crash on purpose, writing reproducers.
  "FORCE_CLANG_DIAGNOSTICS_CRASH",
] as const;

export type { ColorMode } from "./color.ts";

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
    const objectPath = joinPhysical(cwd, outputPathFor(inv, src));
    const dep = userDepfilePath(inv, src);
    return {
      source: src,
      sourceAbs: joinPhysical(cwd, src.path),
      args: inv.sources.length === 1 ? inv.args : others(src),
      objectPath,
      userDepfile: dep === null ? null : joinPhysical(cwd, dep),
      sideOutputs: inv.sideOutputs.map((kind) => ({ kind, path: sideOutputPath(objectPath, kind) })),
      language: src.language,
    };
  });
}

export interface CcKeyInputs {
  readonly compilerHash: string;
  readonly invokedName: string;
  /** The job's arguments as the key takes them (relocate.ts: portableArgs). */
  readonly args: readonly string[];
  /** Null when the outputs cannot depend on it (relocate.ts: keyMode). */
  readonly cwd: string | null;
  /** ZCCACHE_PATH_REMAP: the compile runs with our prefix maps. */
  readonly remap: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly colorMode: ColorMode;
  /** clang's -fmessage-length on a terminal (from COLUMNS); none: no field. */
  readonly messageLength?: number | null;
  readonly sourceHash: string;
  /** Fingerprints of the programs the driver runs for this job ("as=<hash>"); none: no field. */
  readonly tools?: readonly string[];
  /** The host CPU, when an option targets it (-march=native, …: usesNativeCpu); none: no field. */
  readonly hostCpu?: string | null;
}

/** Options with which the compiler targets the CPU it runs on, whatever that is. */
export function usesNativeCpu(args: readonly string[]): boolean {
  return args.some((a) => /^-m(arch|cpu|tune)=native(\+|$)/.test(a) || a === "-mnative");
}

/** The set ones of CC_KEY_ENV_VARS as NAME=value, in that list's order. */
export function keyEnvPairs(env: Readonly<Record<string, string | undefined>>): string[] {
  return CC_KEY_ENV_VARS.filter((v) => env[v] !== undefined).map((v) => `${v}=${env[v]}`);
}

export function ccKeyFields(k: CcKeyInputs): KeyField[] {
  const envPairs = keyEnvPairs(k.env);
  return [
    { name: "compiler", value: k.compilerHash },
    { name: "invoked-as", value: k.invokedName },
    // The cwd is embedded in debug info and coverage notes; relative paths are resolved
    // against it when entries are validated, so it is only here when the outputs embed it.
    ...(k.cwd === null ? [] : [{ name: "cwd", value: k.cwd }]),
    { name: "args", value: k.args },
    ...(k.remap ? [{ name: "remap", value: "cwd-relative" }] : []),
    { name: "env", value: envPairs },
    { name: "color", value: k.colorMode },
    { name: "source", value: k.sourceHash },
    ...(k.tools === undefined || k.tools.length === 0 ? [] : [{ name: "tools", value: k.tools }]),
    ...(k.messageLength === undefined || k.messageLength === null ? [] : [{ name: "message-length", value: String(k.messageLength) }]),
    ...(k.hostCpu === undefined || k.hostCpu === null ? [] : [{ name: "host-cpu", value: k.hostCpu }]),
  ];
}

/**
 * How the header list and who included whom are obtained on a miss. The depfile is the
 * complete list (`-H` leaves out -include'd files). `-H` adds the include tree, but only
 * where it cannot change the output: gcc records -H in DW_AT_producer under -g, and
 * clang's driver turns -H into "list system headers in the depfile". So clang compiles
 * carry -H unless the user wants -MMD; gcc compiles never do. With -MMD (whose depfile
 * leaves out system headers) the list and tree come from a separate preprocessing run.
 */
export type HeaderSource =
  | { readonly kind: "none" }
  | { readonly kind: "depfile"; readonly depfile: string; readonly traced: boolean }
  | { readonly kind: "separate-trace"; readonly args: readonly string[]; readonly depfile: string };

/** Options that only name outputs or depfiles: dropped from trace runs. */
const TRACE_DROP_NONE = new Set(["-c", "-S", "-MD", "-MMD", "-MP", "-MG"]);
const TRACE_DROP_WITH_VALUE = ["-o", "-MF", "-MT", "-MQ"];

/** `args` without the options that name outputs or depfiles, for a preprocessing-only trace run. */
export function withoutOutputOptions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (TRACE_DROP_NONE.has(a)) continue;
    const withValue = TRACE_DROP_WITH_VALUE.find((o) => a.startsWith(o));
    if (withValue !== undefined) {
      if (a === withValue) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function traceOnlyArgs(args: readonly string[], privateDepfile: string): string[] {
  const out = withoutOutputOptions(args);
  return [...out, "-E", "-H", "-MD", "-MF", privateDepfile, "-o", "/dev/null"];
}

export function ccRunPlan(
  job: CcJob,
  inv: CcInvocation,
  family: CcFamily,
  terminal: Terminal,
  privateDepfile: string,
): { args: string[]; headers: HeaderSource } {
  const args = [...job.args];
  args.push(...colorArgs(terminal.colorMode));
  if (terminal.messageLength !== null) args.push(`-fmessage-length=${terminal.messageLength}`);
  if (isPreprocessed(job.language)) return { args, headers: { kind: "none" } };
  if (inv.deps.style === "mmd" && job.userDepfile !== null) {
    return { args, headers: { kind: "separate-trace", args: traceOnlyArgs(job.args, privateDepfile), depfile: privateDepfile } };
  }
  const traced = family === "clang";
  if (traced) args.push("-H");
  if (inv.deps.style === "md" && job.userDepfile !== null) {
    return { args, headers: { kind: "depfile", depfile: job.userDepfile, traced } };
  }
  args.push("-MD", "-MF", privateDepfile);
  return { args, headers: { kind: "depfile", depfile: privateDepfile, traced } };
}

export interface MissHeaders {
  /**
   * Absolute header paths, each with the absolute paths of its includers (null when the
   * compile was not traced); null as a whole when the header list could not be read.
   */
  readonly headers: ReadonlyMap<string, ReadonlySet<string> | null> | null;
  /** The compile's stderr without any -H trace. */
  readonly stderr: Buffer;
}

/** Extracts the header tree after a successful miss; stderr comes back without the trace. */
export function ccHeadersAfterRun(
  how: HeaderSource,
  compileStderr: Buffer,
  traceStderr: Buffer | null,
  depfileText: string | null,
  cwd: string,
  sourceAbs: string,
): MissHeaders {
  const headers = new Map<string, Set<string> | null>();
  if (how.kind === "none") return { headers, stderr: compileStderr };
  const traceText = how.kind === "separate-trace" ? traceStderr : how.traced ? compileStderr : null;
  const isFile = (p: string): boolean => fs.statSync(joinPhysical(cwd, p), { throwIfNoEntry: false })?.isFile() === true;
  const traced = traceText === null ? null : splitHeaderTrace(traceText, isFile);
  const stderr = how.kind === "depfile" && traced !== null ? traced.stderr : compileStderr;
  if (depfileText === null) return { headers: null, stderr };
  for (const h of traced?.headers ?? []) {
    const abs = joinPhysical(cwd, h.path);
    if (abs === sourceAbs) continue;
    const set = headers.get(abs) ?? new Set<string>();
    for (const inc of h.includers) set.add(inc === "" ? sourceAbs : joinPhysical(cwd, inc));
    headers.set(abs, set);
  }
  for (const p of parseDepfile(depfileText)) {
    const abs = joinPhysical(cwd, p);
    if (abs === sourceAbs) continue;
    // Traced: a file only the depfile names (-include, -imacros) was read for the source.
    // Untraced: who included it is unknown.
    if (!headers.has(abs)) headers.set(abs, traced === null ? null : new Set([sourceAbs]));
  }
  return { headers, stderr };
}
