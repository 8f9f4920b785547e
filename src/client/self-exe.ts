// Which executables are "zccache" to this process: itself and, when the native launcher
// exec'd it (src/launcher), that launcher — the file compiler-named symlinks point at.
const launcher = process.env.ZCCACHE_LAUNCHER_EXE;
const handover = process.env.ZCCACHE_LAUNCHER_HANDOVER;
// Read once and dropped: the compilers and daemons we start must not inherit the claims.
delete process.env.ZCCACHE_LAUNCHER_EXE;
delete process.env.ZCCACHE_LAUNCHER_HANDOVER;

/** What a symlink-mode PATH search must skip first: the launcher if it started us. */
export const SELF_EXE: string = launcher || process.execPath;
/** Every zccache executable of this installation that a PATH search must pass over. */
export const SELF_EXES: readonly string[] = launcher ? [launcher, process.execPath] : [process.execPath];

/**
 * What the launcher learnt from the daemon before it handed this compile over: the daemon
 * already counted it and said to run it uncached, or it stayed silent for the whole client
 * deadline after the request was sent at `sentAtMs`. Null when there is nothing to act on.
 */
export type LauncherHandover = { readonly kind: "run-local" } | { readonly kind: "silent"; readonly sentAtMs: number };

function parseHandover(raw: string | undefined): LauncherHandover | null {
  if (raw === "run-local") return { kind: "run-local" };
  const m = /^silent:(\d+)$/.exec(raw ?? "");
  return m === null ? null : { kind: "silent", sentAtMs: Number(m[1]) };
}

export const LAUNCHER_HANDOVER: LauncherHandover | null = launcher ? parseHandover(handover) : null;
