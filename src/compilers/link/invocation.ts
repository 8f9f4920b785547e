// What a classified link or archive invocation tells the cache: its inputs, outputs and the
// facts that decide how a miss learns every file the linker read.
import type { UncacheableReason } from "../../stats/outcomes.ts";

/** Notes about a result that is cached but is not reproducible bit for bit. */
export type LinkHint = "ar-not-deterministic" | "build-id-uuid";

/** A `-l` reference as the linker searches it. */
export interface LibRef {
  /** `foo` for -lfoo, `libfoo.a` for -l:libfoo.a. */
  readonly name: string;
  /** -l:file: the name is a file name, not a library name. */
  readonly verbatim: boolean;
  /** After -Bstatic (or with -static): only archives are searched. */
  readonly archiveOnly: boolean;
}

/** What the linker-level arguments (ld, or a driver's -Wl/-Xlinker plus its own) say. */
export interface LinkerArgs {
  /** Files read as written: positional inputs, scripts, symbol lists, plugins. */
  readonly inputs: readonly string[];
  /** -R values: a file is read for its symbols (and hashed); a directory is an rpath. */
  readonly maybeInputs: readonly string[];
  readonly libDirs: readonly string[];
  readonly libs: readonly LibRef[];
  /** -o as written, or null. */
  readonly output: string | null;
  /** Files the linker writes besides its output (-Map, --out-implib, …), as written. */
  readonly sideOutputs: readonly string[];
  /** The user's own --dependency-file, if any. */
  readonly userDepfile: string | null;
  readonly sysroot: string | null;
  /** --verbose was given by the user (then its output is theirs, not ours to strip). */
  readonly userVerbose: boolean;
  readonly hints: readonly LinkHint[];
}

/** Which program does the linking, which decides how a miss learns the files it read. */
export type LinkTool =
  | { readonly kind: "driver"; readonly family: "gcc" | "clang"; readonly fuseLd: string | null }
  | { readonly kind: "emcc" }
  | { readonly kind: "ld" }
  | { readonly kind: "wasm-ld" };

export interface LinkInvocation extends LinkerArgs {
  readonly kind: "link";
  readonly tool: LinkTool;
  /** The output as written, or the tool's default name. */
  readonly output: string;
}

export interface ArchiveInvocation {
  readonly kind: "archive";
  /** The archive as written. */
  readonly archive: string;
  /** Member files (and an --plugin), as written: their content goes in the key. */
  readonly inputs: readonly string[];
  /** D / U as given; "tool-default" when neither was. */
  readonly determinism: "deterministic" | "non-deterministic" | "tool-default";
}

export type LinkClassification =
  | LinkInvocation
  | ArchiveInvocation
  | { readonly kind: "not-cacheable"; readonly reason: UncacheableReason; readonly detail: string };

export const notCacheable = (reason: UncacheableReason, detail: string): LinkClassification => ({
  kind: "not-cacheable",
  reason,
  detail,
});
