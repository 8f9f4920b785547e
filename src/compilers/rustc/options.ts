// The rustc option table: how each option takes its argument and what it means for caching.
// Data, not control flow: the parser looks an option up here and acts on its role.

export type RustOptionRole =
  | "key" // affects the output or the diagnostics; hashed as written
  | "crate-name"
  | "crate-type"
  | "emit"
  | "out-dir"
  | "output-file" // -o
  | "extern"
  | "search-path" // -L
  | "link-lib" // -l
  | "codegen" // -C: looked up again in CODEGEN_OPTIONS
  | "unstable" // -Z: looked up again in UNSTABLE_TOO_HARD
  | "target"
  | "remap" // --remap-path-prefix
  | "print"
  | "info" // -V, --help, --explain: prints and exits
  | "test" // --test: a test harness, passed through
  | "too-hard"; // reads or writes files we cannot account for

/** "flag" takes no argument; "value" takes one, joined (`--x=v`, `-Cv`) or separate. */
export type RustArgStyle = "flag" | "value";

export interface RustOptionSpec {
  readonly style: RustArgStyle;
  readonly role: RustOptionRole;
}

const o = (style: RustArgStyle, role: RustOptionRole): RustOptionSpec => ({ style, role });

/** Long options, and the short ones that have no long spelling. */
export const RUST_OPTIONS: ReadonlyMap<string, RustOptionSpec> = new Map<string, RustOptionSpec>([
  ["-h", o("flag", "info")],
  ["--help", o("flag", "info")],
  ["-V", o("flag", "info")],
  ["--version", o("flag", "info")],
  ["--explain", o("value", "info")],
  ["-v", o("flag", "key")],
  ["--verbose", o("flag", "key")],
  ["--cfg", o("value", "key")],
  ["--check-cfg", o("value", "key")],
  ["-L", o("value", "search-path")],
  ["-l", o("value", "link-lib")],
  ["--crate-type", o("value", "crate-type")],
  ["--crate-name", o("value", "crate-name")],
  ["--edition", o("value", "key")],
  ["--emit", o("value", "emit")],
  ["--print", o("value", "print")],
  ["-g", o("flag", "key")],
  ["-O", o("flag", "key")],
  ["-o", o("value", "output-file")],
  ["--out-dir", o("value", "out-dir")],
  ["--test", o("flag", "test")],
  ["--target", o("value", "target")],
  ["-A", o("value", "key")],
  ["--allow", o("value", "key")],
  ["-W", o("value", "key")],
  ["--warn", o("value", "key")],
  ["--force-warn", o("value", "key")],
  ["-D", o("value", "key")],
  ["--deny", o("value", "key")],
  ["-F", o("value", "key")],
  ["--forbid", o("value", "key")],
  ["--cap-lints", o("value", "key")],
  ["-C", o("value", "codegen")],
  ["--codegen", o("value", "codegen")],
  ["-Z", o("value", "unstable")],
  ["--extern", o("value", "extern")],
  ["--sysroot", o("value", "too-hard")],
  ["--error-format", o("value", "key")],
  ["--json", o("value", "key")],
  ["--color", o("value", "key")],
  ["--diagnostic-width", o("value", "key")],
  ["--remap-path-prefix", o("value", "remap")],
  ["--remap-path-scope", o("value", "key")],
  ["--env-set", o("value", "key")],
  ["--crate-attr", o("value", "key")],
  ["--extern-location", o("value", "key")],
  ["--pretty", o("value", "too-hard")],
  ["--unpretty", o("value", "too-hard")],
]);

export type CodegenRole =
  | "key"
  | "incremental" // left out of the key: a cache directory, not an input
  | "extra-filename"
  | "linker" // which program links bins and proc-macros
  | "link-arg" // may name files the link reads
  | "target-cpu"
  | "split-debuginfo" // only "off" writes no side files
  | "too-hard";

/** `-C name[=value]` by name; any name not listed is hashed as written ("key"). */
export const CODEGEN_OPTIONS: ReadonlyMap<string, CodegenRole> = new Map<string, CodegenRole>([
  ["incremental", "incremental"],
  ["extra-filename", "extra-filename"],
  ["linker", "linker"],
  ["link-arg", "link-arg"],
  ["link-args", "link-arg"],
  ["target-cpu", "target-cpu"],
  ["split-debuginfo", "split-debuginfo"],
  // Writes intermediate files next to the outputs.
  ["save-temps", "too-hard"],
  // Reads a profile file we would have to hash.
  ["profile-use", "too-hard"],
  ["profile-sample-use", "too-hard"],
]);

/** `-Z` options that read or write files, or print instead of compiling. */
export const UNSTABLE_TOO_HARD: readonly string[] = [
  "unpretty",
  "self-profile",
  "dump-",
  "ls",
  "print-",
  "query-dep-graph",
  "profile",
  "split-dwarf",
  "temps-dir",
  "emit-stack-sizes",
  "llvm-time-trace",
  "time-llvm-passes",
  "codegen-backend",
];

export type CrateType = "bin" | "lib" | "rlib" | "staticlib" | "proc-macro" | "dylib" | "cdylib";
export const CRATE_TYPES: readonly CrateType[] = ["bin", "lib", "rlib", "staticlib", "proc-macro", "dylib", "cdylib"];

export type EmitKind = "link" | "metadata" | "dep-info" | "obj" | "asm" | "llvm-ir" | "llvm-bc" | "mir" | "thin-link-bitcode";
export const EMIT_KINDS: readonly EmitKind[] = [
  "link",
  "metadata",
  "dep-info",
  "obj",
  "asm",
  "llvm-ir",
  "llvm-bc",
  "mir",
  "thin-link-bitcode",
];
