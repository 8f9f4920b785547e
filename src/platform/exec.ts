// Runs a program to completion, capturing stdout and stderr as bytes. Everything run here
// is a compiler or tool run for a request, so it carries the re-entry marker.
import * as fs from "node:fs";
import { withReentryMarker } from "./compiler-path.ts";

export interface Captured {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/**
 * util-linux's setpriv, to give every program we run SIGTERM when the daemon dies: a daemon
 * killed with -9 would otherwise leave its compiler running, and that orphan could rewrite an
 * output after the client, told nothing, compiled it again by itself. (gcc's driver deletes
 * its temporary files on SIGTERM and never starts the assembler.) Without setpriv, as before.
 */
const SETPRIV = ((): string | null => {
  const p = Bun.which("setpriv");
  if (p === null) return null;
  const probe = Bun.spawnSync([p, "--pdeathsig", "TERM", "--", "true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  return probe.exitCode === 0 ? p : null;
})();

let programTempDir: string | null = null;

/**
 * Where the programs run here keep their temporary files (their TMPDIR): a directory the
 * caller owns and clears, so a compiler ended with the daemon (its driver deletes its own
 * files, but cc1 may still write one) leaves nothing behind in /tmp. Objects do not depend
 * on it (checked for gcc and clang, -g included).
 */
export function setProgramTempDir(dir: string | null): void {
  programTempDir = dir;
}

function programEnv(env: Record<string, string>): Record<string, string> {
  const out = withReentryMarker(env);
  if (programTempDir === null) return out;
  try {
    // Made again on every run: the cache root may have been deleted since.
    fs.mkdirSync(programTempDir, { recursive: true, mode: 0o700 });
    out.TMPDIR = programTempDir;
  } catch {
    // an unusable cache root: leave TMPDIR as the build set it
  }
  return out;
}

export async function runCapture(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Captured> {
  const guarded = SETPRIV === null ? [...argv] : [SETPRIV, "--pdeathsig", "TERM", "--", ...argv];
  const proc = Bun.spawn(guarded, {
    cwd: opts.cwd,
    env: programEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, errBytes, code] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).arrayBuffer(),
    proc.exited,
  ]);
  const exitCode = proc.signalCode ? 128 + (SIGNALS[proc.signalCode] ?? 1) : code;
  return { exitCode, stdout: Buffer.from(out), stderr: Buffer.from(errBytes) };
}

const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};
