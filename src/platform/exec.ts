// Runs a program to completion, capturing stdout and stderr as bytes. Everything run here
// is a compiler or tool run for a request, so it carries the re-entry marker.
import { withReentryMarker } from "./compiler-path.ts";

export interface Captured {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export async function runCapture(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Captured> {
  const proc = Bun.spawn([...argv], {
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
