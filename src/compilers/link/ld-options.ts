// The option table of GNU ld, gold, lld and wasm-ld: how each option takes its argument and
// what it means for caching. Data, not control flow: the parser looks an option up here.

export type LdRole =
  | "plain" // affects the output; hashed as written
  | "output" // -o
  | "input" // names a file the linker reads (scripts, symbol lists, plugins)
  | "input-or-dir" // -R: a file (just symbols) or a directory (an rpath)
  | "lib-dir" // -L
  | "lib" // -l
  | "static" // -Bstatic and friends: later -l find only archives
  | "dynamic" // -Bdynamic and friends
  | "side-output" // -Map: a file written besides the output
  | "dep-file" // --dependency-file: the user's own
  | "sysroot"
  | "build-id" // --build-id[=style]: uuid is not deterministic
  | "verbose" // lists every file it loads (our fallback when there is no depfile)
  | "plugin-opt" // plain, unless it names files the plugin writes
  | "too-hard"; // reads or writes files we cannot account for, or prints instead of linking

/**
 * "none": a flag (an `=value` suffix is tolerated); "separate": `--x=v`, `--x v`, or glued
 * to a short option (`-xv`); "optional": `--x=v` or `--x`, never a separate word.
 */
export type LdArgStyle = "none" | "separate" | "optional";

export interface LdOptionSpec {
  readonly style: LdArgStyle;
  readonly role: LdRole;
}

const o = (style: LdArgStyle, role: LdRole): LdOptionSpec => ({ style, role });
const FLAG = o("none", "plain");
const VALUE = o("separate", "plain");

function table(rows: readonly (readonly [string, LdOptionSpec])[]): ReadonlyMap<string, LdOptionSpec> {
  const m = new Map<string, LdOptionSpec>();
  for (const [names, spec] of rows) for (const n of names.split(" ")) m.set(n, spec);
  return m;
}

/**
 * Long options by name without dashes (ld accepts one or two). Space-separated names in a row
 * are aliases. Single-dash spellings are looked up here first, then as short options.
 */
export const LD_LONG_OPTIONS: ReadonlyMap<string, LdOptionSpec> = table([
  ["output", o("separate", "output")],
  ["library", o("separate", "lib")],
  ["library-path", o("separate", "lib-dir")],
  ["script default-script dT version-script dynamic-list export-dynamic-symbol-list", o("separate", "input")],
  ["retain-symbols-file just-symbols symbol-ordering-file call-graph-ordering-file", o("separate", "input")],
  ["allow-undefined-file plugin", o("separate", "input")],
  ["Map print-archive-stats why-extract out-implib", o("separate", "side-output")],
  ["dependency-file", o("separate", "dep-file")],
  ["sysroot", o("separate", "sysroot")],
  ["build-id", o("optional", "build-id")],
  ["verbose", o("optional", "verbose")],
  ["plugin-opt", o("separate", "plugin-opt")],
  ["Bstatic dn non_shared static", o("none", "static")],
  ["Bdynamic dy call_shared", o("none", "dynamic")],
  // Print instead of linking, run programs, or write files we do not know about.
  ["version help v V reproduce save-temps thinlto-cache-dir lto-obj-path time-trace", o("none", "too-hard")],
  ["time-trace-file error-handling-script mri-script", o("separate", "too-hard")],
  ["print-memory-usage print-output-format target-help", o("none", "too-hard")],
  [
    "shared Bshareable pie pic-executable no-pie relocatable r strip-all strip-debug discard-all discard-locals " +
      "export-dynamic no-export-dynamic E as-needed no-as-needed whole-archive no-whole-archive start-group " +
      "end-group ( ) gc-sections no-gc-sections print-gc-sections gc-keep-exported eh-frame-hdr " +
      "enable-new-dtags disable-new-dtags fatal-warnings no-undefined allow-shlib-undefined " +
      "allow-multiple-definition nostdlib omagic nmagic N n trace t print-map M cref demangle g q emit-relocs " +
      "Bsymbolic Bsymbolic-functions Bsymbolic-non-weak-functions Bno-symbolic Bgroup relax undefined-version " +
      "noinhibit-exec no-keep-memory reduce-memory-overheads stats sort-common check-sections " +
      "ld-generated-unwind-info copy-dt-needed-entries add-needed push-state pop-state " +
      "enable-non-contiguous-regions gdb-index print-icf-sections rosegment apply-dynamic-relocs " +
      "use-android-relr-tags pack-dyn-relocs-relr ignore-data-address-equality ignore-function-address-equality " +
      "color-diagnostics error-unresolved-symbols warn-unresolved-symbols warn-common warn-once " +
      "warn-constructors warn-multiple-gp warn-section-align warn-textrel warn-backrefs warn-mismatch " +
      "export-all export-table import-memory import-table import-undefined allow-undefined no-entry " +
      "growable-table shared-memory stack-first merge-data-segments check-features experimental-pic " +
      "compress-relocations EB EL dc dp d x X s S i Qy fix-cortex-a53-843419 " +
      "target1-rel target1-abs target2 be8 icf-all eh-frame-hdr-all discard-none " +
      "dynamic-list-data dynamic-list-cpp-new dynamic-list-cpp-typeinfo export-dynamic-symbol-all " +
      "undefined-glob lto-legacy-pass-manager lto-debug-pass-manager accept-unknown-input-arch " +
      "print-symbol-counts embedded-relocs",
    FLAG,
  ],
  [
    "soname h rpath rpath-link dynamic-linker I entry e undefined u require-defined trace-symbol y wrap defsym " +
      "section-start image-base hash-style hash-size sort-section compress-debug-sections unresolved-symbols " +
      "orphan-handling format b oformat architecture A m auxiliary f filter F exclude-libs icf pack-dyn-relocs " +
      "threads thinlto-jobs error-limit z Y P a G assert task-link Ttext Tdata Tbss Ttext-segment " +
      "Trodata-segment Tldata-segment export export-if-defined initial-memory max-memory global-base features " +
      "mllvm lto-partitions O emulation export-dynamic-symbol max-page-size common-page-size zero-page " +
      "build-id-style exclude-modules-for-implib exclude-symbols wrap-symbol package-metadata lto-O lto-CGO " +
      "split-by-reloc split-by-file init fini rsp-quoting plugin-opt-sysroot stack-size table-base " +
      "warn-backrefs-exclude error-unresolved-symbols-glob color-diagnostics-mode Tsymbols " +
      "compress-sections no-warn-rwx-segments-ignored",
    VALUE,
  ],
]);

/** Long options matched by prefix when the whole name is not in the table (`--lto-O2`). */
export const LD_LONG_PREFIXES: readonly (readonly [string, LdOptionSpec])[] = [
  ["lto-O", FLAG],
  ["lto-CGO", FLAG],
];

/** Single-letter options; a value may be glued (`-lfoo`, `-L.`, `-zrelro`, `-O1`). */
export const LD_SHORT_OPTIONS: ReadonlyMap<string, LdOptionSpec> = table([
  ["o", o("separate", "output")],
  ["l", o("separate", "lib")],
  ["L", o("separate", "lib-dir")],
  ["T", o("separate", "input")],
  ["R", o("separate", "input-or-dir")],
  ["c", o("separate", "too-hard")],
  ["e u y h I m z Y P a A b f F G O", VALUE],
  ["E s S x X r i t M n N g q Q", FLAG],
  ["v V", o("none", "too-hard")],
]);

/** Names of options that are flags whatever their suffix: `--no-…` and `--warn-…` never take a separate value. */
export function isFlagFamily(name: string): boolean {
  return name.startsWith("no-") || name.startsWith("warn-");
}
