// gcc reads a `specs` file when it finds one among its startfile prefixes: the directories of
// LIBRARY_PATH, LPATH (read like LIBRARY_PATH by a native gcc), GCC_EXEC_PREFIX and its own
// installation, each also with its `<machine>/<version>/` below. Such a file can change every
// compile and link (add options, include directories, other programs) without changing the
// driver, so a compile or link that would read one runs uncached. Where gcc looks depends on
// the driver and those variables: asked once (`-print-search-dirs`); whether a file is there,
// on every request.
import { runCapture } from "../platform/exec.ts";
import { hasRelativeEntry, joinPhysical } from "../platform/paths.ts";
import { regularFileStamp } from "../platform/stat-snapshot.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import { ProbeMemo } from "./probe-memo.ts";

const MEMO_LIMIT = 1024;
const candidatesMemo = new ProbeMemo<readonly string[]>(MEMO_LIMIT);

/**
 * Every path where gcc may look for its specs file, from `-print-search-dirs` run in `cwd`:
 * each library directory, and for one ending in `<machine>/<version>/` (as the install
 * directory does) also the prefix above it and its `<machine>/`. A superset of where gcc
 * looks; null when the output is not understood.
 */
export function specsCandidates(searchDirs: string, cwd: string): string[] | null {
  const install = /^install: (.*)$/m.exec(searchDirs)?.[1]?.trim();
  const libraries = /^libraries: =?(.*)$/m.exec(searchDirs)?.[1];
  if (install === undefined || libraries === undefined) return null;
  const parts = install.replace(/\/+$/, "").split("/");
  const version = parts.at(-1);
  const machine = parts.at(-2);
  if (version === undefined || machine === undefined || version === "" || machine === "") return null;
  const suffix = `/${machine}/${version}`;
  const out = new Set<string>();
  for (const raw of [install, ...libraries.split(":")]) {
    if (raw === "") continue;
    // As gcc spells it (`..` after a symlink is the link target's parent): not normalised.
    const dir = joinPhysical(cwd, raw);
    out.add(`${dir}/specs`);
    if (dir.endsWith(suffix)) {
      const prefix = dir.slice(0, dir.length - suffix.length);
      out.add(`${prefix}/${machine}/specs`);
      out.add(`${prefix}/specs`);
    }
  }
  return [...out];
}

/** The variables that add to gcc's startfile prefixes, where it looks for `specs`. */
export const STARTFILE_PREFIX_VARS = ["LIBRARY_PATH", "LPATH", "GCC_EXEC_PREFIX"] as const;

function ask(ident: CompilerIdentity, env: Record<string, string>, cwd: string): Promise<readonly string[]> {
  const vars = STARTFILE_PREFIX_VARS.map((v) => env[v] ?? null);
  // A relative entry (an empty one is ".") is the cwd's; absolute ones are the same from anywhere.
  const relative = hasRelativeEntry(vars);
  const key = JSON.stringify([ident.path, ident.hash, vars, relative ? cwd : null]);
  return candidatesMemo.get(key, () =>
    runCapture([ident.path, "-print-search-dirs"], { cwd, env: { ...env } }).then((r) => {
      const found = r.exitCode === 0 ? specsCandidates(r.stdout.toString("utf8"), cwd) : null;
      if (found === null) throw new Error(`${ident.path} -print-search-dirs not understood`);
      return found;
    }),
  );
}

/**
 * Every path where gcc may find its specs file for this request: the directories it lists,
 * its installation's own as if GCC_EXEC_PREFIX were not set (it still looks there), and
 * GCC_EXEC_PREFIX with `specs` appended as gcc appends it (no `/` added).
 */
async function candidates(ident: CompilerIdentity, env: Record<string, string>, cwd: string): Promise<readonly string[]> {
  const gep = env.GCC_EXEC_PREFIX;
  if (gep === undefined) return ask(ident, env, cwd);
  const { GCC_EXEC_PREFIX: _, ...without } = env;
  const [withIt, standard] = await Promise.all([ask(ident, env, cwd), ask(ident, without, cwd)]);
  // gcc appends "specs" to the prefix as written: "/x/gep" gives "/x/gepspecs".
  const spelled = `${gep.startsWith("/") ? "" : `${cwd}/`}${gep}specs`;
  return [...new Set([...withIt, ...standard, spelled])];
}

/**
 * Where gcc would look for a specs file for this request and the first one there (null:
 * none); undefined when it cannot be told.
 */
export async function gccSpecs(
  ident: CompilerIdentity,
  env: Record<string, string>,
  cwd: string,
): Promise<{ readonly found: string | null; readonly candidates: readonly string[] } | undefined> {
  let list: readonly string[];
  try {
    list = await candidates(ident, env, cwd);
  } catch {
    return undefined;
  }
  for (const c of list) if (regularFileStamp(c) !== null) return { found: c, candidates: list };
  return { found: null, candidates: list };
}
