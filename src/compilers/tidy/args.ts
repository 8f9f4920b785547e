// Reads clang-tidy and include-what-you-use command lines: the tool's own options (sorted
// into key-only, inputs, fix-it runs and what we do not understand), the source analysed,
// and the compile arguments a preprocessing run must see to list the headers it read.
import * as path from "node:path";
import { type CcInvocation, classifyCc } from "../cc/args.ts";
import type { AnalyzerFamily } from "../family.ts";
import type { UncacheableReason } from "../../stats/outcomes.ts";

export interface AnalysisInvocation {
  readonly tool: AnalyzerFamily;
  /** The analysed source as written. */
  readonly source: string;
  /**
   * The compile as clang sees it inside the tool, without the compiler word and with the
   * source: what a preprocessing run with the matching clang is given.
   */
  readonly compileArgs: readonly string[];
  /** The compile arguments read with the C/C++ option table (include dirs, language). */
  readonly cc: CcInvocation;
  /** `--config-file=` (clang-tidy), as written. */
  readonly configFile: string | null;
  /** `-Xiwyu --mapping_file=` values, as written. */
  readonly mappingFiles: readonly string[];
  /** Whether `.clang-tidy` files in the source's directories apply (clang-tidy only). */
  readonly readsDirConfig: boolean;
}

export type AnalysisClassification =
  | { readonly kind: "analysis"; readonly inv: AnalysisInvocation }
  | { readonly kind: "not-cacheable"; readonly reason: UncacheableReason; readonly detail: string };

const refuse = (reason: UncacheableReason, detail: string): AnalysisClassification => ({ kind: "not-cacheable", reason, detail });

/** `cwd` only tells whether two spellings of the source name the same file. */
export function classifyAnalysis(tool: AnalyzerFamily, args: readonly string[], cwd: string): AnalysisClassification {
  return tool === "clang-tidy" ? classifyClangTidy(args, cwd) : classifyIwyu(args);
}

/** What clang-tidy does with one of its options. */
type TidyOption =
  | "key" // only changes what is reported: in the key through the arguments
  | "fix" // writes files (sources or a fixes file)
  | "query" // prints something about the tool and exits
  | "hard" // reads or writes something we do not follow
  | "config-file"
  | "extra-arg"
  | "extra-arg-before";

/** clang-tidy's options (LLVM 14 to 18), by name without dashes, and whether they take a value. */
const TIDY_OPTIONS: ReadonlyMap<string, { readonly does: TidyOption; readonly value: boolean }> = new Map([
  ["checks", { does: "key", value: true }],
  ["warnings-as-errors", { does: "key", value: true }],
  ["header-filter", { does: "key", value: true }],
  ["exclude-header-filter", { does: "key", value: true }],
  ["line-filter", { does: "key", value: true }],
  ["format-style", { does: "key", value: true }],
  ["config", { does: "key", value: true }],
  ["system-headers", { does: "key", value: false }],
  ["quiet", { does: "key", value: false }],
  ["use-color", { does: "key", value: false }],
  ["allow-enabling-analyzer-alpha-checkers", { does: "key", value: false }],
  ["allow-no-checks", { does: "key", value: false }],
  ["config-file", { does: "config-file", value: true }],
  ["extra-arg", { does: "extra-arg", value: true }],
  ["extra-arg-before", { does: "extra-arg-before", value: true }],
  ["fix", { does: "fix", value: false }],
  ["fix-errors", { does: "fix", value: false }],
  ["fix-notes", { does: "fix", value: false }],
  ["export-fixes", { does: "fix", value: true }],
  ["list-checks", { does: "query", value: false }],
  ["dump-config", { does: "query", value: false }],
  ["explain-config", { does: "query", value: false }],
  ["verify-config", { does: "query", value: false }],
  ["version", { does: "query", value: false }],
  ["help", { does: "query", value: false }],
  ["help-hidden", { does: "query", value: false }],
  ["help-list", { does: "query", value: false }],
  ["p", { does: "hard", value: true }],
  ["vfsoverlay", { does: "hard", value: true }],
  ["load", { does: "hard", value: true }],
  ["store-check-profile", { does: "hard", value: true }],
  ["enable-check-profile", { does: "hard", value: false }],
  ["enable-module-headers-parsing", { does: "hard", value: false }],
]);

function classifyClangTidy(args: readonly string[], cwd: string): AnalysisClassification {
  const found = args.indexOf("--");
  const dash = found < 0 ? args.length : found;
  const sources: string[] = [];
  const before: string[] = [];
  const after: string[] = [];
  let configFile: string | null = null;
  for (let i = 0; i < dash; i++) {
    const a = args[i] as string;
    if (a.startsWith("@")) return refuse("too-hard", `response file ${a}`);
    if (!a.startsWith("-") || a === "-") {
      sources.push(a);
      continue;
    }
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const opt = TIDY_OPTIONS.get(name);
    if (opt === undefined) return refuse("unknown-option", `clang-tidy option ${a}`);
    let value: string | null = eq < 0 ? null : body.slice(eq + 1);
    if (opt.value && value === null) {
      if (i + 1 >= dash) return refuse("too-hard", `${a} without a value`);
      value = args[++i] as string;
    }
    switch (opt.does) {
      case "key":
        break;
      case "fix":
        return refuse("side-file", `${a}: a fix-it run writes files`);
      case "query":
        return refuse("info-query", a);
      case "hard":
        return refuse("too-hard", a);
      case "config-file":
        configFile = value;
        break;
      case "extra-arg":
        after.push(value ?? "");
        break;
      case "extra-arg-before":
        before.push(value ?? "");
        break;
    }
  }
  // Without "--" the compile comes from a compilation database found by searching upwards.
  if (found < 0) return refuse("too-hard", "no '--': clang-tidy would read a compilation database");
  if (sources.length === 0) return refuse("no-input", "no source file");
  if (sources.length > 1) return refuse("too-hard", "more than one source file");
  const source = sources[0] as string;
  if (source === "-") return refuse("stdin-input", "source from stdin");
  const compile = withoutCompilerWord(args.slice(dash + 1));
  const cc = readCompile([...before, ...compile, ...after], source, cwd);
  if (cc.kind === "not-cacheable") return cc;
  return {
    kind: "analysis",
    inv: { tool: "clang-tidy", source, compileArgs: cc.args, cc: cc.inv, configFile, mappingFiles: [], readsDirConfig: true },
  };
}

/** include-what-you-use's own options (passed as `-Xiwyu <option>`): all only change what it reports, but for mapping files and queries. */
type IwyuOption = "flag" | "value" | "optional-value" | "mapping" | "query";
const IWYU_OPTIONS: ReadonlyMap<string, IwyuOption> = new Map<string, IwyuOption>([
  ["check_also", "value"],
  ["keep", "value"],
  ["mapping_file", "mapping"],
  ["no_default_mappings", "flag"],
  ["pch_in_code", "flag"],
  ["prefix_header_includes", "value"],
  ["transitive_includes_only", "flag"],
  ["verbose", "value"],
  ["quoted_includes_first", "flag"],
  ["cxx17ns", "flag"],
  ["error", "optional-value"],
  ["error_always", "optional-value"],
  ["max_line_length", "value"],
  ["no_comments", "flag"],
  ["update_comments", "flag"],
  ["no_fwd_decls", "flag"],
  ["comment_style", "value"],
  ["experimental", "value"],
  ["regex", "value"],
  ["help", "query"],
  ["version", "query"],
]);

function classifyIwyu(args: readonly string[]): AnalysisClassification {
  const compile: string[] = [];
  const mappingFiles: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a !== "-Xiwyu") {
      compile.push(a);
      continue;
    }
    const opt = args[++i];
    if (opt === undefined) return refuse("too-hard", "-Xiwyu without an option");
    const m = /^--([a-z_0-9]+)(?:=(.*))?$/s.exec(opt);
    const kind = m === null ? undefined : IWYU_OPTIONS.get(m[1] as string);
    if (m === null || kind === undefined) return refuse("unknown-option", `include-what-you-use option ${opt}`);
    if (kind === "query") return refuse("info-query", opt);
    const value = m[2];
    if (kind === "flag" && value !== undefined) return refuse("too-hard", `${opt} with a value`);
    // A value in the next -Xiwyu (getopt's separate form) is not followed.
    if ((kind === "value" || kind === "mapping") && (value === undefined || value === "")) return refuse("too-hard", `${opt} without '=<value>'`);
    if (kind === "mapping") mappingFiles.push(value as string);
  }
  const cc = readCompile(compile, null, "/");
  if (cc.kind === "not-cacheable") return cc;
  const src = cc.inv.sources[0] as { readonly path: string };
  return {
    kind: "analysis",
    inv: { tool: "iwyu", source: src.path, compileArgs: cc.args, cc: cc.inv, configFile: null, mappingFiles, readsDirConfig: false },
  };
}

/**
 * CMake passes the whole compile after "--", compiler first; clang-tidy drops every input
 * word there (the compiler's name among them) and analyses the file named before "--".
 */
function withoutCompilerWord(compile: readonly string[]): string[] {
  const first = compile[0];
  if (first !== undefined && !first.startsWith("-") && /^(?:.*\/)?[A-Za-z0-9_.+-]*(?:cc|c\+\+|gcc|g\+\+|clang|clang\+\+|clang-cl)(?:-\d+(?:\.\d+)*)?$/.test(first)) {
    return compile.slice(1);
  }
  return [...compile];
}

/**
 * The compile read with the C/C++ table, with the analysed source in it exactly once (as
 * given, or added when `source` is not null). Only a compile the table fully understands is
 * cached: its include search is what the key and the probes are built from.
 */
function readCompile(
  compile: readonly string[],
  source: string | null,
  cwd: string,
): { readonly kind: "ok"; readonly args: string[]; readonly inv: CcInvocation } | { readonly kind: "not-cacheable"; readonly reason: UncacheableReason; readonly detail: string } {
  if (compile.some((a) => a.startsWith("@"))) return { kind: "not-cacheable", reason: "too-hard", detail: "response file in the compile arguments" };
  // The table wants a compile step: the tools only ever parse, whatever the mode words say.
  const mode = compile.some((a) => a === "-c" || a === "-S") ? [] : ["-c"];
  // CMake adds `--driver-mode=gcc` (or g++): the preprocessing run keeps it, the table never saw it.
  const modes = compile.filter((a) => a.startsWith("--driver-mode="));
  if (modes.some((a) => a !== "--driver-mode=gcc" && a !== "--driver-mode=g++")) {
    return { kind: "not-cacheable", reason: "too-hard", detail: modes.join(" ") };
  }
  const plusPlus = modes.at(-1) === "--driver-mode=g++";
  const classify = (list: readonly string[]): ReturnType<typeof classifyCc> =>
    classifyCc([...list.filter((a) => !a.startsWith("--driver-mode=")), ...mode], "clang");
  const named = classify(compile);
  const same = (p: string): boolean => source !== null && path.resolve(cwd, p) === path.resolve(cwd, source);
  // clang-tidy analyses the file named before "--" whatever the compile names (CMake names
  // it in both places, possibly spelled differently): add it when the compile does not.
  const has = named.kind === "compile" && named.inv.sources.length > 0;
  const args = source === null || has ? [...compile] : [...compile, source];
  const cls = source === null || has ? named : classify(args);
  if (cls.kind === "not-cacheable") return cls;
  const inv = cls.inv;
  if (source !== null && inv.sources.some((s) => !same(s.path))) {
    return { kind: "not-cacheable", reason: "too-hard", detail: "the compile arguments name another source" };
  }
  // In g++ mode a `.c` file is C++: only a source C++ by its own name is read the same by both.
  if (plusPlus && inv.sources.some((s) => !s.language.includes("++"))) {
    return { kind: "not-cacheable", reason: "too-hard", detail: "--driver-mode=g++ on a source that is not C++ by its name" };
  }
  if (inv.sources.length !== 1) return { kind: "not-cacheable", reason: "too-hard", detail: "not exactly one source file" };
  return { kind: "ok", args, inv };
}
