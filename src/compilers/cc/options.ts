// The gcc/clang option table: how each option takes its argument and what it means for caching.
// Data, not control flow: the parser looks an option up here and acts on its properties.

export type OptionRole =
  | "plain" // affects the output; hashed as written
  | "output" // -o
  | "language" // -x
  | "include-dir-quote"
  | "include-dir"
  | "include-dir-system"
  | "include-dir-after"
  | "dep-md"
  | "dep-mmd"
  | "dep-file" // -MF
  | "dep-target" // -MT, -MQ
  | "dep-flag" // -MP, -MG
  | "mode-compile" // -c
  | "mode-assemble" // -S
  | "preprocess-only" // -E, -M, -MM
  | "save-temps"
  | "too-hard" // reads or writes files we cannot account for
  | "color" // diagnostics colour switches
  | "arch"
  | "linker"; // meaningful only when linking; harmless with -c

/** How an option is spelled with its argument. */
export type ArgStyle =
  | "none" // -c
  | "separate" // -o file (also accepts joined -ofile unless listed as separate-only)
  | "separate-only" // -include file
  | "joined" // -std=c11 (prefix match)
  | "joined-or-separate"; // -I dir or -Idir

export interface OptionSpec {
  readonly style: ArgStyle;
  readonly role: OptionRole;
}

const s = (style: ArgStyle, role: OptionRole): OptionSpec => ({ style, role });

/** Options matched exactly (with a following argument when the style says so). */
export const EXACT_OPTIONS: ReadonlyMap<string, OptionSpec> = new Map<string, OptionSpec>([
  ["-c", s("none", "mode-compile")],
  ["-S", s("none", "mode-assemble")],
  ["-E", s("none", "preprocess-only")],
  ["-M", s("none", "preprocess-only")],
  ["-MM", s("none", "preprocess-only")],
  ["-MD", s("none", "dep-md")],
  ["-MMD", s("none", "dep-mmd")],
  ["-MP", s("none", "dep-flag")],
  ["-MG", s("none", "dep-flag")],
  ["-save-temps", s("none", "save-temps")],
  ["-v", s("none", "too-hard")], // args.ts counts it as verbose-driver
  ["-###", s("none", "too-hard")],
  ["-Q", s("none", "too-hard")],
  ["-fsyntax-only", s("none", "too-hard")],
  ["-o", s("joined-or-separate", "output")],
  ["-x", s("joined-or-separate", "language")],
  ["-I", s("joined-or-separate", "include-dir")],
  ["-iquote", s("joined-or-separate", "include-dir-quote")],
  ["-isystem", s("joined-or-separate", "include-dir-system")],
  ["-idirafter", s("joined-or-separate", "include-dir-after")],
  ["-cxx-isystem", s("joined-or-separate", "include-dir-system")],
  ["-D", s("joined-or-separate", "plain")],
  ["-U", s("joined-or-separate", "plain")],
  ["-A", s("joined-or-separate", "plain")],
  ["-MF", s("joined-or-separate", "dep-file")],
  ["-MT", s("joined-or-separate", "dep-target")],
  ["-MQ", s("joined-or-separate", "dep-target")],
  ["-include", s("separate-only", "plain")],
  ["-imacros", s("separate-only", "plain")],
  ["-iprefix", s("separate-only", "too-hard")],
  ["-iwithprefix", s("separate-only", "too-hard")],
  ["-iwithprefixbefore", s("separate-only", "too-hard")],
  ["-isysroot", s("separate-only", "plain")],
  ["-imultilib", s("separate-only", "plain")],
  ["--sysroot", s("separate-only", "plain")],
  ["-include-pch", s("separate-only", "too-hard")],
  ["-Xpreprocessor", s("separate-only", "too-hard")],
  ["-Xassembler", s("separate-only", "plain")],
  ["-Xlinker", s("separate-only", "linker")],
  ["-Xclang", s("separate-only", "plain")],
  ["-mllvm", s("separate-only", "plain")],
  ["-target", s("separate-only", "plain")],
  ["--target", s("separate-only", "plain")],
  ["-arch", s("separate-only", "arch")],
  ["--param", s("separate-only", "plain")],
  ["-aux-info", s("separate-only", "too-hard")],
  ["-L", s("joined-or-separate", "linker")],
  ["-l", s("joined-or-separate", "linker")],
  ["-T", s("joined-or-separate", "linker")],
  ["-u", s("joined-or-separate", "linker")],
  ["-z", s("joined-or-separate", "linker")],
  ["-e", s("joined-or-separate", "linker")],
  ["-B", s("joined-or-separate", "too-hard")],
  ["-F", s("joined-or-separate", "too-hard")],
  ["-iframework", s("joined-or-separate", "too-hard")],
  ["-ivfsoverlay", s("separate-only", "too-hard")],
  ["-working-directory", s("separate-only", "too-hard")],
  ["-wrapper", s("separate-only", "too-hard")],
  ["--serialize-diagnostics", s("separate-only", "too-hard")],
  ["-MJ", s("joined-or-separate", "too-hard")],
  ["-fcolor-diagnostics", s("none", "color")],
  ["-fno-color-diagnostics", s("none", "color")],
  ["-fdiagnostics-color", s("none", "color")],
  ["-fno-diagnostics-color", s("none", "color")],
  ["-pipe", s("none", "plain")],
  ["-pthread", s("none", "plain")],
  ["-w", s("none", "plain")],
  ["-ansi", s("none", "plain")],
  ["-p", s("none", "plain")],
  ["-pg", s("none", "plain")],
  ["-P", s("none", "plain")],
  ["-C", s("none", "plain")],
  ["-CC", s("none", "plain")],
  ["-H", s("none", "too-hard")],
  ["-trigraphs", s("none", "plain")],
  ["-traditional", s("none", "plain")],
  ["-traditional-cpp", s("none", "plain")],
  ["-undef", s("none", "plain")],
  ["-nostdinc", s("none", "plain")],
  ["-nostdinc++", s("none", "plain")],
  ["-nostdlib", s("none", "linker")],
  ["-nostdlib++", s("none", "linker")],
  ["-nodefaultlibs", s("none", "linker")],
  ["-nostartfiles", s("none", "linker")],
  ["-static", s("none", "linker")],
  ["-shared", s("none", "linker")],
  ["-rdynamic", s("none", "linker")],
  ["-s", s("none", "linker")],
  ["-static-libgcc", s("none", "linker")],
  ["-static-libstdc++", s("none", "linker")],
  ["-pie", s("none", "linker")],
  ["-no-pie", s("none", "linker")],
  ["-integrated-as", s("none", "plain")],
  ["-no-integrated-as", s("none", "plain")],
  ["-time", s("none", "too-hard")],
  ["-dumpmachine", s("none", "too-hard")],
  ["-dumpversion", s("none", "too-hard")],
  ["-dumpfullversion", s("none", "too-hard")],
  ["--version", s("none", "too-hard")],
  ["--help", s("none", "too-hard")],
  ["-print-search-dirs", s("none", "too-hard")],
  ["-gsplit-dwarf", s("none", "plain")],
  ["--coverage", s("none", "plain")],
  // emcc/em++: link-time options (their files are hashed by the link adapter), and options
  // that change the installation emcc uses.
  ...[
    "--js-library",
    "--pre-js",
    "--post-js",
    "--extern-pre-js",
    "--extern-post-js",
    "--shell-file",
    "--embed-file",
    "--preload-file",
    "--exclude-file",
    "--closure",
    "--closure-args",
    "--minify",
    "--memory-init-file",
    "--source-map-base",
    "--llvm-lto",
    "--output_eol",
    "--oformat",
  ].map((name): [string, OptionSpec] => [name, s("separate-only", "linker")]),
  ...[
    "--emit-symbol-map",
    "--profiling",
    "--profiling-funcs",
    "--bind",
    "--no-entry",
    "--emrun",
    "--cpuprofiler",
    "--memoryprofiler",
    "--threadprofiler",
    "--use-preload-cache",
    "--use-preload-plugins",
    "--no-heap-copy",
    "--ignore-dynamic-linking",
    "--tracing",
  ].map((name): [string, OptionSpec] => [name, s("none", "linker")]),
  ["--cache", s("separate-only", "plain")],
  ["--valid-abspath", s("separate-only", "plain")],
  ["--llvm-opts", s("separate-only", "plain")],
  ["--default-obj-ext", s("separate-only", "plain")],
  ["--em-config", s("separate-only", "too-hard")],
  ["--js-transform", s("separate-only", "too-hard")],
  ["--save-bc", s("separate-only", "too-hard")],
  ["--clear-cache", s("none", "too-hard")],
  ["--clear-ports", s("none", "too-hard")],
  ["--show-ports", s("none", "too-hard")],
  ["--check", s("none", "too-hard")],
  ["--cflags", s("none", "too-hard")],
]);

/**
 * Joined options matched by prefix, longest first. Families of simple flags (-f…, -W…,
 * -m…, -O…, -g…) are plain unless listed here with another role.
 */
export const PREFIX_OPTIONS: readonly (readonly [string, OptionSpec])[] = [
  ["-save-temps=", s("joined", "save-temps")],
  ["-save-stats", s("joined", "plain")], // refused as a side file (SIDE_FILE_OPTIONS)
  ["-fdiagnostics-color=", s("joined", "color")],
  ["-specs=", s("joined", "too-hard")],
  ["--specs=", s("joined", "too-hard")],
  ["-fplugin", s("joined", "too-hard")],
  ["-fprofile-use", s("joined", "too-hard")],
  ["-fauto-profile", s("joined", "too-hard")],
  ["-fprofile-sample-use", s("joined", "too-hard")],
  ["-fprofile-instr-use", s("joined", "too-hard")],
  ["-fdump-", s("joined", "too-hard")],
  ["-fcallgraph-info", s("joined", "too-hard")],
  ["-fsave-optimization-record", s("joined", "too-hard")],
  ["-fdebug-prefix-map=", s("joined", "plain")],
  ["-ffile-prefix-map=", s("joined", "plain")],
  ["-fmacro-prefix-map=", s("joined", "plain")],
  ["--sysroot=", s("joined", "plain")],
  ["--param=", s("joined", "plain")],
  ["--target=", s("joined", "plain")],
  ["--gcc-toolchain=", s("joined", "plain")],
  ["-Wp,", s("joined", "plain")],
  ["-Wa,", s("joined", "plain")],
  ["-Wl,", s("joined", "linker")],
  ["-Xarch_", s("joined", "too-hard")],
  // emcc/em++ settings, -sNAME=VALUE: always upper case, so gcc's -static, -shared, -std= stay apart.
  ...[..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].map((c): [string, OptionSpec] => [`-s${c}`, s("joined", "plain")]),
  ...["--js-library=", "--pre-js=", "--post-js=", "--extern-pre-js=", "--extern-post-js=", "--shell-file="].map(
    (name): [string, OptionSpec] => [name, s("joined", "linker")],
  ),
  ...["--embed-file=", "--preload-file=", "--exclude-file=", "--closure-args="].map(
    (name): [string, OptionSpec] => [name, s("joined", "linker")],
  ),
  ["-std=", s("joined", "plain")],
  ["--std=", s("joined", "plain")],
  ["-stdlib=", s("joined", "plain")],
  ["-rtlib=", s("joined", "linker")],
  ["-fuse-ld=", s("joined", "linker")],
  ["-print-", s("joined", "too-hard")],
  ["-dump", s("joined", "too-hard")],
  ["-pedantic", s("joined", "plain")],
  ["--pedantic", s("joined", "plain")],
  ["-f", s("joined", "plain")],
  ["-W", s("joined", "plain")],
  ["-m", s("joined", "plain")],
  ["-O", s("joined", "plain")],
  ["-g", s("joined", "plain")],
];

/**
 * Options that make the compiler write (or read) a file that is neither the object nor a
 * side output we capture and restore, or print something a replay would get wrong
 * (timings). Checked against every option that is otherwise plain, passed through or not.
 */
export const SIDE_FILE_OPTIONS: readonly RegExp[] = [
  /^-fopt-info[^=]*=(?!std(out|err)$)/, // -fopt-info-vec-missed=FILE; stdout and stderr are replayed
  /^-ftime-trace/, // clang: <output>.json beside the object
  /^-ftime-report/, // timings: a replay would print old ones
  /^-f(pre-ipa-|post-ipa-)?mem-report/,
  /^-fproc-stat-report/,
  /^-save-stats/, // clang: .stats files
  /^-foptimization-record-file=/,
  /^-fprofile-note=/, // gcc: names the .gcno file itself
  /^-fcompare-debug/,
  /^-fdiagnostics-format=sarif-file/,
  /^-fdiagnostics-log-file/,
  /^-fstack-usage=/,
  // Files read that no depfile names, or whole module systems with their own caches.
  /^-fprofile-list=/,
  /^-fprofile-remapping-file=/,
  /^-fxray-(attr-list|always-instrument|never-instrument)=/,
  /^-fsanitize-coverage-(allow|ignore|white|black)list=/,
  /^-fpass-plugin=/,
  /^-fmodules?($|[-=])/,
  /^-fcxx-modules/,
  /^-fimplicit-module-maps/,
  /^-fprebuilt-module-path/,
  /^-fmodule-/,
];

/**
 * emcc/em++ spell some options differently from gcc: `-s NAME=VALUE` takes the next word
 * (gcc's -s, strip, takes none). Consulted before the tables above for the emcc family.
 */
export const EMCC_OVERRIDES: ReadonlyMap<string, OptionSpec> = new Map<string, OptionSpec>([["-s", s("separate-only", "plain")]]);

/** Exact options that may also be written with their value joined (-Idir, -DFOO, -MFfile). */
const JOINABLE = new Map<string, OptionSpec>();
for (const [name, spec] of EXACT_OPTIONS) {
  if (spec.style === "joined-or-separate" || spec.style === "separate") JOINABLE.set(name, spec);
}
const LONGEST_JOINABLE = Math.max(...[...JOINABLE.keys()].map((n) => n.length));

/**
 * PREFIX_OPTIONS by their first two characters (every prefix has at least two), each list in
 * the table's order: the first prefix of the table that a word starts with is in its list.
 */
const PREFIXES_BY_HEAD = new Map<string, (readonly [string, OptionSpec])[]>();
for (const entry of PREFIX_OPTIONS) {
  const head = entry[0].slice(0, 2);
  const list = PREFIXES_BY_HEAD.get(head);
  if (list === undefined) PREFIXES_BY_HEAD.set(head, [entry]);
  else list.push(entry);
}

/**
 * Looks an option up: exact first, then the longest exact option written with its value
 * joined (-MF before -M, -isystem before -I), then the first matching prefix of the table.
 * Runs for every argument of every compile: map lookups, not a scan of the tables.
 */
export function lookupOption(arg: string): { name: string; spec: OptionSpec } | null {
  const exact = EXACT_OPTIONS.get(arg);
  if (exact) return { name: arg, spec: exact };
  for (let n = Math.min(LONGEST_JOINABLE, arg.length - 1); n >= 1; n--) {
    const name = arg.slice(0, n);
    const spec = JOINABLE.get(name);
    if (spec !== undefined) return { name, spec };
  }
  for (const [prefix, spec] of PREFIXES_BY_HEAD.get(arg.slice(0, 2)) ?? []) {
    if (arg.startsWith(prefix)) return { name: prefix, spec };
  }
  return null;
}

/**
 * The value of the option found at args[i]: the next word (then `next` is i + 1) or the
 * joined rest of the word; null when a separate value is missing.
 */
export function optionValue(
  args: readonly string[],
  i: number,
  found: { name: string; spec: OptionSpec },
): { value: string; next: number } | null {
  const a = args[i] as string;
  const { name, spec } = found;
  if (spec.style === "separate-only" || ((spec.style === "joined-or-separate" || spec.style === "separate") && a === name)) {
    const v = args[i + 1];
    return v === undefined ? null : { value: v, next: i + 1 };
  }
  return { value: spec.style === "none" ? "" : a.slice(name.length), next: i };
}
