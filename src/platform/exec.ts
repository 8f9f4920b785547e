// Runs a program to completion, capturing stdout and stderr as bytes. Everything run here
// is a compiler or tool run for a request, so it carries the re-entry marker.
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

export async function runCapture(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Captured> {
  const guarded = SETPRIV === null ? [...argv] : [SETPRIV, "--pdeathsig", "TERM", "--", ...argv];
  const proc = Bun.spawn(guarded, {
    cwd: opts.cwd,
    env: withReentryMarker(opts.env),
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
