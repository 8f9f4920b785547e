// Which adapter understands a compiler, from the name it was invoked by (and, for the
// generic cc/c++ names, the file they resolve to).
export type CompilerFamily = "gcc" | "clang";

const CLANG = /^(?:.*-)?clang(?:\+\+)?(?:-\d+(?:\.\d+)*)?$/;
const GCC = /^(?:.*-)?(?:gcc|g\+\+|cc|c\+\+)(?:-\d+(?:\.\d+)*)?$/;

export function compilerFamily(invokedName: string, realName: string): CompilerFamily | null {
  for (const name of invokedName === "cc" || invokedName === "c++" ? [realName, invokedName] : [invokedName]) {
    if (CLANG.test(name)) return "clang";
    if (GCC.test(name)) return "gcc";
  }
  return null;
}
