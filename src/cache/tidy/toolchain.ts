// The clang that lists what clang-tidy or include-what-you-use read: the one of the same
// LLVM release, given the tool's own resource directory, so its include search is the
// tool's. Found once per tool identity; a tool without one is not cached.
import * as fs from "node:fs";
import * as path from "node:path";
import { runCapture } from "../../platform/exec.ts";
import type { AnalyzerFamily } from "../../compilers/family.ts";
import type { CompilerIdentities, CompilerIdentity } from "../compiler-identity.ts";

export interface MatchingClang {
  readonly clang: CompilerIdentity;
  /** The tool's builtin headers: `<tool's real dir>/../lib/clang/<version>`, as clang's driver finds them. */
  readonly resourceDir: string;
}

const memo = new Map<string, Promise<MatchingClang | null>>();
const MAX_MEMO = 256;

function versionOf(text: string, tool: AnalyzerFamily | "clang"): string | null {
  const re = tool === "clang-tidy" ? /LLVM version (\d+\.\d+\.\d+)/ : /clang version (\d+\.\d+\.\d+)/;
  return re.exec(text)?.[1] ?? null;
}

async function versionLine(exe: string, tool: AnalyzerFamily | "clang"): Promise<string | null> {
  try {
    const r = await runCapture([exe, "--version"], { cwd: "/", env: { PATH: "/usr/bin:/bin", LC_ALL: "C" } });
    return r.exitCode === 0 ? versionOf(r.stdout.toString("utf8"), tool) : null;
  } catch {
    return null;
  }
}

export function matchingClang(tool: AnalyzerFamily, ident: CompilerIdentity, compilers: CompilerIdentities): Promise<MatchingClang | null> {
  const k = `${tool}\u0000${ident.path}\u0000${ident.hash}`;
  let p = memo.get(k);
  if (p === undefined) {
    if (memo.size >= MAX_MEMO) memo.clear();
    p = find(tool, ident, compilers);
    memo.set(k, p);
  }
  return p.then((m) => {
    // The clang may have been replaced since: its identity is looked up again (stat-memoised).
    if (m === null) return null;
    const now = compilers.identify(m.clang.path);
    return now === null ? null : { ...m, clang: now };
  });
}

async function find(tool: AnalyzerFamily, ident: CompilerIdentity, compilers: CompilerIdentities): Promise<MatchingClang | null> {
  let real: string;
  try {
    real = fs.realpathSync(ident.path);
  } catch {
    return null;
  }
  const version = await versionLine(real, tool);
  if (version === null) return null;
  const major = version.split(".")[0] as string;
  const binDir = path.dirname(real);
  const resourceDir = path.resolve(binDir, "..", "lib", "clang", version);
  if (!fs.statSync(resourceDir, { throwIfNoEntry: false })?.isDirectory()) return null;
  for (const candidate of [path.join(binDir, "clang"), path.join(binDir, `clang-${major}`), `/usr/lib/llvm-${major}/bin/clang`]) {
    if (!fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue;
    if ((await versionLine(candidate, "clang")) !== version) continue;
    const clang = compilers.identify(candidate);
    if (clang !== null) return { clang, resourceDir };
  }
  return null;
}
