// Classifies a gcc/clang command line: a cacheable compile (with everything the cache
// needs to know about it) or a reason it is not cacheable.
import * as path from "node:path";
import type { UncacheableReason } from "../../stats/outcomes.ts";
import type { CcFamily } from "../family.ts";
import { EMCC_OVERRIDES, lookupOption, optionValue } from "./options.ts";

export type Language = "c" | "c++" | "objective-c" | "objective-c++" | "c-cpp-output" | "c++-cpp-output";

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
};

const X_LANGUAGE: Readonly<Record<string, Language>> = {
  c: "c",
  "c++": "c++",
  "objective-c": "objective-c",
  "objective-c++": "objective-c++",
  "cpp-output": "c-cpp-output",
  "c++-cpp-output": "c++-cpp-output",
};

export function isPreprocessed(lang: Language): boolean {
  return lang === "c-cpp-output" || lang === "c++-cpp-output";
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

export interface CcInvocation {
  /** The argument list after response-file expansion. */
  readonly args: readonly string[];
  readonly sources: readonly SourceFile[];
  /** -o value as written, or null for the compiler's default name. */
  readonly output: string | null;
  readonly mode: "object" | "assembly";
  readonly deps: DepOptions;
  readonly includeDirs: IncludeDirs;
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
  const quote: string[] = [];
  const bracket: string[] = [];
  const system: string[] = [];
  const after: string[] = [];
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

  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "-") return notCacheable("stdin-input", "source read from standard input");
    if (!a.startsWith("-")) {
      if (xUnsupported !== null) return notCacheable("unsupported-language", `-x ${xUnsupported}`);
      const lang = xLang ?? EXTENSION_LANGUAGE[path.extname(a)];
      if (lang === undefined) otherInputs.push(a);
      else sources.push({ path: a, language: lang, argIndex: i });
      continue;
    }
    const override = family === "emcc" ? EMCC_OVERRIDES.get(a) : undefined;
    const found = override === undefined ? lookupOption(a) : { name: a, spec: override };
    if (found === null) return notCacheable("unknown-option", a);
    const { name, spec } = found;
    const read = optionValue(args, i, found);
    if (read === null) return notCacheable("too-hard", `${a} without its argument`);
    const value = read.value;
    i = read.next;
    switch (spec.role) {
      case "plain":
        if (name === "-Wp," && /(^|,)-M/.test(value)) return notCacheable("too-hard", a);
        if (name === "-Wa," && /(^|,)-a/.test(value)) return notCacheable("too-hard", a);
        if (a === "-gsplit-dwarf") side.add("dwo");
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
        quote.push(value);
        break;
      case "include-dir":
        bracket.push(value);
        break;
      case "include-dir-system":
        system.push(value);
        break;
      case "include-dir-after":
        after.push(value);
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
        return notCacheable("too-hard", a);
      case "color":
        explicitColor = true;
        break;
      case "arch":
        archCount++;
        if (archCount > 1) return notCacheable("multiple-arch", "more than one -arch");
        break;
    }
  }

  if (!sawCompile && !sawAssemble) return notCacheable("link", "no -c or -S: a link");
  if (sources.length === 0) {
    return otherInputs.length > 0
      ? notCacheable("unsupported-language", otherInputs[0] as string)
      : notCacheable("no-input", "no source file");
  }
  if (otherInputs.length > 0) return notCacheable("too-hard", `non-source input ${otherInputs[0]}`);
  if (output === "-") return notCacheable("too-hard", "output to stdout");
  if (sources.length > 1 && (output !== null || depFile !== null)) {
    return notCacheable("too-hard", "several sources with -o or -MF");
  }
  for (const src of sources) {
    if (isPreprocessed(src.language) && side.size > 0) return notCacheable("too-hard", "side outputs from preprocessed input");
  }
  return {
    kind: "compile",
    inv: {
      args,
      sources,
      output,
      mode: sawAssemble ? "assembly" : "object",
      deps: { style: depStyle, file: depFile },
      includeDirs: { quote, bracket, system, after },
      explicitColor,
      sideOutputs: [...side],
    },
  };
}

function replaceExtension(p: string, ext: string): string {
  const base = path.basename(p);
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
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
  if (inv.output !== null) return replaceExtension(inv.output, ".d");
  return replaceExtension(path.basename(src.path), ".d");
}

const SIDE_EXTENSION: Readonly<Record<SideOutputKind, string>> = { dwo: ".dwo", gcno: ".gcno", su: ".su" };

export function sideOutputPath(objectPath: string, kind: SideOutputKind): string {
  return replaceExtension(objectPath, SIDE_EXTENSION[kind]);
}
