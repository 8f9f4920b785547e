// Which adapter understands a compiler, from the name it was invoked by (and, for the
// generic cc/c++ names, the file they resolve to).
export type CcFamily = "gcc" | "clang" | "emcc";
export type CompilerFamily = CcFamily | "rustc" | "archiver" | "linker";

const CLANG = /^(?:.*-)?clang(?:\+\+)?(?:-\d+(?:\.\d+)*)?$/;
const GCC = /^(?:.*-)?(?:gcc|g\+\+|cc|c\+\+)(?:-\d+(?:\.\d+)*)?$/;
const EMCC = /^(?:emcc|em\+\+)(?:\.py)?$/;
const RUSTC = /^(?:rustc|clippy-driver)(?:\.exe)?$/;
const ARCHIVER = /^(?:.*-)?(?:ar|llvm-ar|gcc-ar)(?:-\d+(?:\.\d+)*)?$/;
const LINKER = /^(?:.*-)?(?:ld|ld\.bfd|ld\.gold|ld\.lld|lld|wasm-ld)(?:-\d+(?:\.\d+)*)?$/;

export function compilerFamily(invokedName: string, realName: string): CompilerFamily | null {
  for (const name of invokedName === "cc" || invokedName === "c++" ? [realName, invokedName] : [invokedName]) {
    if (EMCC.test(name)) return "emcc";
    if (CLANG.test(name)) return "clang";
    if (GCC.test(name)) return "gcc";
    if (RUSTC.test(name)) return "rustc";
    if (ARCHIVER.test(name)) return "archiver";
    if (LINKER.test(name)) return "linker";
  }
  return null;
}

export function isCcFamily(f: CompilerFamily): f is CcFamily {
  return f === "gcc" || f === "clang" || f === "emcc";
}

/** Source analysers run on a compile's arguments: cached by their own adapter (cache/tidy/). */
export type AnalyzerFamily = "clang-tidy" | "iwyu";

const CLANG_TIDY = /^(?:.*-)?clang-tidy(?:-\d+(?:\.\d+)*)?$/;
const IWYU = /^(?:include-what-you-use|iwyu)$/;

/** Checked before compilerFamily(): "clang-tidy" must not read as a clang. */
export function analyzerFamily(invokedName: string, realName: string): AnalyzerFamily | null {
  for (const name of [invokedName, realName]) {
    if (CLANG_TIDY.test(name)) return "clang-tidy";
    if (IWYU.test(name)) return "iwyu";
  }
  return null;
}
