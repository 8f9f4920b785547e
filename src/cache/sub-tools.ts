// The programs a compiler driver runs besides itself: gcc's cc1/cc1plus and the assembler,
// clang's external assembler under -fno-integrated-as. gcc names the assembler by its bare
// name when it is not in its own directories, so the `as` first on the request's PATH is
// the one that writes the object: its content hash belongs in the key like the compiler's.
import type { CcInvocation } from "../compilers/cc/args.ts";
import type { CcJob } from "../compilers/cc/plan.ts";
import { systemAffecting } from "../compilers/cc/search-path.ts";
import type { CcFamily } from "../compilers/family.ts";
import { runCapture } from "../platform/exec.ts";
import { findCompiler } from "../platform/compiler-path.ts";
import type { CompilerIdentities, CompilerIdentity } from "./compiler-identity.ts";
import { ProbeMemo } from "./probe-memo.ts";

const CC1: Readonly<Record<CcJob["language"], string>> = {
  c: "cc1",
  "c-cpp-output": "cc1",
  "c++": "cc1plus",
  "c++-cpp-output": "cc1plus",
  "objective-c": "cc1obj",
  "objective-c++": "cc1objplus",
  // gcc preprocesses .S with `cc1 -E -lang-asm`, then runs the assembler.
  "assembler-with-cpp": "cc1",
};

/** Which sub-programs this job runs, by the name the driver looks up. */
export function subToolNames(family: CcFamily, job: CcJob, inv: CcInvocation): string[] {
  if (family === "gcc") return inv.mode === "object" ? [CC1[job.language], "as"] : [CC1[job.language]];
  if (family !== "clang" || inv.mode !== "object") return [];
  let external = false;
  for (const a of inv.modelArgs) {
    if (a === "-fno-integrated-as" || a === "-no-integrated-as") external = true;
    else if (a === "-fintegrated-as" || a === "-integrated-as") external = false;
  }
  return external ? ["as"] : [];
}

// -print-prog-name answers from the driver's own directories (and COMPILER_PATH,
// GCC_EXEC_PREFIX); a bare name means "whatever PATH finds", resolved per request below.
const progNames = new ProbeMemo<string>(10_000);

function progName(
  ident: CompilerIdentity,
  family: CcFamily,
  name: string,
  flags: readonly string[],
  env: Record<string, string>,
  cwd: string,
): Promise<string> {
  const ask = (): Promise<string> =>
    runCapture([ident.path, ...flags, `-print-prog-name=${name}`], { cwd, env: { ...env } }).then((r) => {
      if (r.exitCode !== 0) throw new Error(`${ident.path} -print-prog-name=${name} failed`);
      return r.stdout.toString("utf8").trim();
    });
  // Directories the user controls (COMPILER_PATH, GCC_EXEC_PREFIX) can gain a program at
  // any time, and clang also looks on PATH: ask every time. gcc's own directories are
  // the installation's, fingerprinted with the driver.
  if (family !== "gcc" || env.COMPILER_PATH !== undefined || env.GCC_EXEC_PREFIX !== undefined) return ask();
  return progNames.get(JSON.stringify([ident.path, ident.hash, name, flags]), ask);
}

/**
 * "name=<content hash>" for every sub-program the job runs ("name=missing" when there is
 * none: the compile then fails and is not stored); null when the driver cannot be asked.
 */
export async function subToolFingerprints(
  ident: CompilerIdentity,
  family: CcFamily,
  job: CcJob,
  inv: CcInvocation,
  env: Record<string, string>,
  cwd: string,
  compilers: CompilerIdentities,
): Promise<string[] | null> {
  const names = subToolNames(family, job, inv);
  if (names.length === 0) return [];
  const flags = systemAffecting(inv.modelArgs);
  const out: string[] = [];
  for (const name of names) {
    let printed: string;
    try {
      printed = await progName(ident, family, name, flags, env, cwd);
    } catch {
      return null;
    }
    // Resolved on every request: a new `as` earlier on PATH must change the key at once.
    // As the driver's execvp would: no wrapper is skipped, it runs whatever PATH names.
    const resolved = findCompiler(printed, cwd, printed.includes("/") ? "" : (env.PATH ?? ""), null);
    const tool = resolved === null ? null : compilers.identify(resolved);
    out.push(`${name}=${tool === null ? "missing" : tool.hash}`);
  }
  return out;
}
