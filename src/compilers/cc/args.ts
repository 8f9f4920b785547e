// Classifies a gcc/clang command line: a cacheable compile (with everything the cache
// needs to know about it) or a reason it is not cacheable.
import * as path from "node:path";
import type { UncacheableReason } from "../../stats/outcomes.ts";
import type { CcFamily } from "../family.ts";
import { EMCC_OVERRIDES, lookupOption, type OptionRole, optionValue, SIDE_FILE_OPTIONS } from "./options.ts";
import { readPassThrough, unsafeAssemblerWord } from "./pass-through.ts";
import { forcedIncludes } from "./pch.ts";
import { isClientFdPath } from "./response-files.ts";

export type Language =
  | "c"
  | "c++"
  | "objective-c"
  | "objective-c++"
  | "c-cpp-output"
  | "c++-cpp-output"
  // `.S`/`.sx`: the C preprocessor, then the assembler. Plain `.s` (no preprocessor) is not one.
  | "assembler-with-cpp";

const EXTENSION_LANGUAGE: Readonly<Record<string, Language>> = {
  ".c": "c",
  ".cc": "c++",
  ".cp": "c++",
  ".cxx": "c++",
  ".cpp": "c++",
  ".CPP": "c++",
  ".c++": "c++",
  ".C": "c++",
  ".m": "objective-c",
  ".mm": "objective-c++",
  ".M": "objective-c++",
  ".i": "c-cpp-output",
  ".ii": "c++-cpp-output",
  ".S": "assembler-with-cpp",
  ".sx": "assembler-with-cpp",
};

const X_LANGUAGE: Readonly<Record<string, Language>> = {
  c: "c",
  "c++": "c++",
  "objective-c": "objective-c",
  "objective-c++": "objective-c++",
  "cpp-output": "c-cpp-output",
  "c++-cpp-output": "c++-cpp-output",
  "assembler-with-cpp": "assembler-with-cpp",
};

export function isPreprocessed(lang: Language): boolean {
  return lang === "c-cpp-output" || lang === "c++-cpp-output";
}

/** Preprocessed assembly: its assembler may read files (`.include`, `.incbin`) no depfile names. */
export function isAssembler(lang: Language): boolean {
  return lang === "assembler-with-cpp";
}

export interface SourceFile {
  readonly path: string;
  readonly language: Language;
  readonly argIndex: number;
}

export interface DepOptions {
  /** Which depfile the user asked for; "none" when no -MD/-MMD. */
  readonly style: "none" | "md" | "mmd";
  /** -MF value as written, if any. */
  readonly file: string | null;
}

export interface IncludeDirs {
  readonly quote: readonly string[];
  readonly bracket: readonly string[];
  readonly system: readonly string[];
  readonly after: readonly string[];
}

/** Which chain each include-directory option adds to. */
const INCLUDE_CHAIN = {
  "include-dir-quote": "quote",
  "include-dir": "bracket",
  "include-dir-system": "system",
  "include-dir-after": "after",
} as const;

const SELF_PATH = /\/proc\/(self|thread-self)\/|(^|[=,:])\/dev\/(fd\/|std(in|out|err)$)/;

interface MutableDirs {
  quote: string[];
  bracket: string[];
  system: string[];
  after: string[];
}

/** What a preprocessor pass-through may carry: options whose meaning we model like the driver's. */
const PASS_THROUGH_ROLES: ReadonlySet<OptionRole> = new Set<OptionRole>([
  "plain",
  "include-dir",
  "include-dir-quote",
  "include-dir-system",
  "include-dir-after",
  "color",
]);
const NESTED_PASS_THROUGH: ReadonlySet<string> = new Set(["-Wp,", "-Wa,", "-Xclang", "-Xassembler", "-Xpreprocessor", "-mllvm"]);
/** Flags whose side files the driver names; passed to a sub-tool they would be named differently. */
const SIDE_OUTPUT_FLAGS: ReadonlySet<string> = new Set(["-gsplit-dwarf", "-gsplit-dwarf=split", "--coverage", "-ftest-coverage", "-fstack-usage"]);

export interface CcInvocation {
  /** The argument list after response-file expansion. */
  readonly args: readonly string[];
  /**
   * The arguments as the compiler understands them: pass-throughs like `-Wp,-I,dir` replaced
   * by the options they carry. For searches (include dirs, -include, system-dir flags), never run.
   */
  readonly modelArgs: readonly string[];
  readonly sources: readonly SourceFile[];
  /** -o value as written, or null for the compiler's default name. */
  readonly output: string | null;
  readonly mode: "object" | "assembly";
  readonly deps: DepOptions;
  readonly includeDirs: IncludeDirs;
  /**
   * Directories given through a preprocessor pass-through: the compiler puts them at one
   * end of their chain or the other (gcc and clang differ), so the search order takes both.
   */
  readonly passThroughDirs: IncludeDirs;
  readonly explicitColor: boolean;
  readonly sideOutputs: readonly SideOutputKind[];
}

export type SideOutputKind = "dwo" | "gcno" | "su";

export type CcClassification =
  | { readonly kind: "compile"; readonly inv: CcInvocation }
  | { readonly kind: "not-cacheable"; readonly reason: UncacheableReason; readonly detail: string };

const notCacheable = (reason: UncacheableReason, detail: string): CcClassification => ({
  kind: "not-cacheable",
  reason,
  detail,
});

export function classifyCc(args: readonly string[], family: CcFamily = "gcc"): CcClassification {
  const sources: SourceFile[] = [];
  const driverDirs: MutableDirs = { quote: [], bracket: [], system: [], after: [] };
  const passDirs: MutableDirs = { quote: [], bracket: [], system: [], after: [] };
  const modelArgs: string[] = [];
  let output: string | null = null;
  let xLang: Language | null = null;
  let xUnsupported: string | null = null;
  let sawCompile = false;
  let sawAssemble = false;
  let depStyle: DepOptions["style"] = "none";
  let depFile: string | null = null;
  let explicitColor = false;
  let archCount = 0;
  const side = new Set<SideOutputKind>();
  const otherInputs: string[] = [];

  /**
   * Reads the option at list[i] (the driver's arguments, or the words of a preprocessor
   * pass-through); returns the index of its last word, or why the compile is refused.
   */
  const option = (list: readonly string[], i: number, via: "driver" | "preprocessor"): number | CcClassification => {
    const a = list[i] as string;
    const override = family === "emcc" && via === "driver" ? EMCC_OVERRIDES.get(a) : undefined;
    const found = override === undefined ? lookupOption(a) : { name: a, spec: override };
    if (found === null) return notCacheable("unknown-option", via === "driver" ? a : `${a} passed through`);
    const { name, spec } = found;
    const read = optionValue(list, i, found);
    if (read === null) return notCacheable("too-hard", `${a} without its argument`);
    const value = read.value;
    if (via === "preprocessor" && !PASS_THROUGH_ROLES.has(spec.role)) return notCacheable("too-hard", `${a} passed through`);
    if (via === "preprocessor" && (NESTED_PASS_THROUGH.has(name) || SIDE_OUTPUT_FLAGS.has(a))) {
      return notCacheable("too-hard", `${a} passed through`);
    }
    const dirs = via === "driver" ? driverDirs : passDirs;
    switch (spec.role) {
      case "plain":
        if (SIDE_FILE_OPTIONS.some((re) => re.test(a))) return notCacheable("side-file", a);
        // LLVM's own options: -info-output-file=, -pass-remarks-output=, -dot-cfg… write files.
        if (name === "-mllvm" && /file|output|dot|dump/i.test(value)) return notCacheable("side-file", `${a} ${value}`);
        if (a === "-gsplit-dwarf" || a === "-gsplit-dwarf=split") side.add("dwo");
        if (a === "--coverage" || a === "-ftest-coverage") side.add("gcno");
        if (a === "-fstack-usage") side.add("su");
        break;
      case "output":
        output = value;
        break;
      case "language":
        if (value === "none") {
          xLang = null;
          xUnsupported = null;
        } else {
          const lang = X_LANGUAGE[value];
          xLang = lang ?? null;
          xUnsupported = lang === undefined ? value : null;
        }
        break;
      case "include-dir-quote":
      case "include-dir":
      case "include-dir-system":
      case "include-dir-after":
        // -I- splits the chain and stops the search of the source's directory.
        if (value === "-") return notCacheable("too-hard", "-I-");
        // `-I=dir`, `-I$SYSROOT/dir`: below a sysroot that may be the compiler's built-in one,
        // which the search order does not know.
        if (value.startsWith("=") || value.startsWith("$SYSROOT")) return notCacheable("too-hard", `${a} below the sysroot`);
        dirs[INCLUDE_CHAIN[spec.role]].push(value);
        break;
      case "dep-md":
        depStyle = "md";
        break;
      case "dep-mmd":
        depStyle = "mmd";
        break;
      case "dep-file":
        depFile = value;
        break;
      case "dep-target":
      case "dep-flag":
      case "linker":
        break;
      case "mode-compile":
        sawCompile = true;
        break;
      case "mode-assemble":
        sawAssemble = true;
        break;
      case "preprocess-only":
        return notCacheable("preprocess-only", a);
      case "save-temps":
        return notCacheable("save-temps", a);
      case "too-hard":
        // -v: gcc prints the commands it runs, naming temp files new on every run, so no
        // replay could be what it prints now. (Still too-hard in the table, for links.)
        return notCacheable(name === "-v" && via === "driver" ? "verbose-driver" : "too-hard", a);
      case "color":
        explicitColor = true;
        break;
      case "arch":
        archCount++;
        if (archCount > 1) return notCacheable("multiple-arch", "more than one -arch");
        break;
    }
    return read.next;
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "-") return notCacheable("stdin-input", "source read from standard input");
    if (!a.startsWith("-")) {
      modelArgs.push(a);
      if (xUnsupported !== null) return notCacheable("unsupported-language", `-x ${xUnsupported}`);
      const ext = path.extname(a);
      // clang (14) takes a .sx file for a linker input: only gcc reads it as assembly.
      const lang = xLang ?? (ext === ".sx" && family !== "gcc" ? undefined : EXTENSION_LANGUAGE[ext]);
      // emcc's assembler path is untested here: left to the compiler, as before.
      if (lang !== undefined && isAssembler(lang) && family === "emcc") return notCacheable("unsupported-language", a);
      if (lang === undefined) otherInputs.push(a);
      else sources.push({ path: a, language: lang, argIndex: i });
      continue;
    }
    const pass = readPassThrough(args, i);
    if (pass !== null) {
      if (pass.target === "assembler") {
        const bad = unsafeAssemblerWord(pass.words);
        if (bad !== null) return notCacheable("too-hard", `assembler option ${bad}`);
      } else {
        for (let k = 0; k < pass.words.length; k++) {
          const w = pass.words[k] as string;
          if (!w.startsWith("-") || w === "-") return notCacheable("too-hard", `${w} passed through`);
          const r = option(pass.words, k, "preprocessor");
          if (typeof r !== "number") return r;
          modelArgs.push(...pass.words.slice(k, r + 1));
          k = r;
        }
      }
      i = pass.next;
      continue;
    }
    const r = option(args, i, "driver");
    if (typeof r !== "number") return r;
    modelArgs.push(...args.slice(i, r + 1));
    i = r;
  }

  if (!sawCompile && !sawAssemble) return notCacheable("link", "no -c or -S: a link");
  if (sources.length === 0) {
    return otherInputs.length > 0
      ? notCacheable("unsupported-language", otherInputs[0] as string)
      : notCacheable("no-input", "no source file");
  }
  if (otherInputs.length > 0) return notCacheable("too-hard", `non-source input ${otherInputs[0]}`);
  const named = [...sources.map((s) => s.path), output, depFile, ...forcedIncludes(modelArgs)];
  const fdPath = named.find((p) => p !== null && isClientFdPath(path.resolve("/", p)));
  if (fdPath !== undefined && fdPath !== null) return notCacheable("fd-input", fdPath);
  // Anywhere else (-I/proc/self/cwd/inc, -imacros /dev/stdin): names that mean the daemon.
  const selfPath = modelArgs.find((a) => SELF_PATH.test(a));
  if (selfPath !== undefined) return notCacheable("fd-input", selfPath);
  if (output === "-") return notCacheable("too-hard", "output to stdout");
  if (sources.length > 1 && (output !== null || depFile !== null)) {
    return notCacheable("too-hard", "several sources with -o or -MF");
  }
  for (const src of sources) {
    if (isPreprocessed(src.language) && side.size > 0) return notCacheable("too-hard", "side outputs from preprocessed input");
    if (isAssembler(src.language) && side.size > 0) return notCacheable("too-hard", "side outputs from assembler input");
    // gcc -S on a .S file writes the preprocessed text, clang fails: neither is a compile.
    if (isAssembler(src.language) && sawAssemble) return notCacheable("too-hard", "-S on assembler input");
  }
  return {
    kind: "compile",
    inv: {
      args,
      sources,
      output,
      mode: sawAssemble ? "assembly" : "object",
      deps: { style: depStyle, file: depFile },
      includeDirs: driverDirs,
      passThroughDirs: passDirs,
      modelArgs,
      explicitColor,
      sideOutputs: [...side],
    },
  };
}

function replaceExtension(p: string, ext: string, leadingDot = false): string {
  const base = path.basename(p);
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 || (leadingDot && dot === 0) ? base.slice(0, dot) : base;
  return path.join(path.dirname(p), stem + ext);
}

/** The output file of one source, relative to the cwd unless -o was absolute. */
export function outputPathFor(inv: CcInvocation, src: SourceFile): string {
  if (inv.output !== null) return inv.output;
  return replaceExtension(path.basename(src.path), inv.mode === "assembly" ? ".s" : ".o");
}

/** Where gcc and clang write the user's depfile for -MD/-MMD without -MF. */
export function userDepfilePath(inv: CcInvocation, src: SourceFile): string | null {
  if (inv.deps.style === "none") return null;
  if (inv.deps.file !== null) return inv.deps.file;
  // gcc and clang replace everything from the name's last dot: "d/.hidden" gives "d/.d".
  if (inv.output !== null) return replaceExtension(inv.output, ".d", true);
  return replaceExtension(path.basename(src.path), ".d");
}

const SIDE_EXTENSION: Readonly<Record<SideOutputKind, string>> = { dwo: ".dwo", gcno: ".gcno", su: ".su" };

export function sideOutputPath(objectPath: string, kind: SideOutputKind): string {
  return replaceExtension(objectPath, SIDE_EXTENSION[kind]);
}
