// Runs a program to completion, capturing stdout and stderr as bytes. Everything run here
// is a compiler or tool run for a request, so it carries the re-entry marker.
import * as fs from "node:fs";
import * as path from "node:path";
import { withReentryMarker } from "./compiler-path.ts";
import { withoutDaemonOnly } from "./daemon-env.ts";

export interface Captured {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/**
 * Every program we run gets SIGTERM when the daemon dies: a daemon killed with -9 would
 * otherwise leave its compiler running, and that orphan could rewrite an output after the
 * client, told nothing, compiled it again by itself. (gcc's driver deletes its temporary
 * files on SIGTERM and never starts the assembler.) Bun.spawn cannot arm the parent-death
 * signal itself, so the program is started through a guard that does and then execs it:
 * our own zccache-pdeathsig, built next to the daemon binary (one exec of a tiny program,
 * ~0.5 ms), else util-linux's setpriv (~1.4 ms per run), else nothing, as before.
 */
let guard: readonly string[] | null = null;

/** Chosen on first use, not at import: a process that never runs a compiler pays no probe. */
function guardPrefix(): readonly string[] {
  guard ??= chooseGuard();
  return guard;
}

function chooseGuard(): readonly string[] {
  const works = (prefix: readonly string[]): boolean =>
    Bun.spawnSync([...prefix, "true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: withoutDaemonOnly(process.env) }).exitCode === 0;
  const own = path.join(path.dirname(process.execPath), "zccache-pdeathsig");
  if (fs.existsSync(own) && works([own, String(process.pid)])) return [own, String(process.pid)];
  const setpriv = Bun.which("setpriv");
  if (setpriv !== null && works([setpriv, "--pdeathsig", "TERM", "--"])) return [setpriv, "--pdeathsig", "TERM", "--"];
  return [];
}

export async function runCapture(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Captured> {
  const guarded = [...guardPrefix(), ...argv];
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
