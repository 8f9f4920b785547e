// Running the real compiler in this process's place: original args, stdio and exit code.
// A make or cargo jobserver named in MAKEFLAGS/CARGO_MAKEFLAGS is passed on too, so the
// compiler can take part in the build's parallelism instead of complaining it is missing.
type Env = Readonly<Record<string, string | undefined>>;
type Stdio = ("inherit" | number | null)[];

function jobserverStdio(env: Env): Stdio | null {
  const m = /--jobserver-(?:auth|fds)=(\d+),(\d+)/.exec(`${env.CARGO_MAKEFLAGS ?? ""} ${env.MAKEFLAGS ?? ""}`);
  if (m === null) return null;
  const stdio: Stdio = ["inherit", "inherit", "inherit"];
  for (const fd of [Number(m[1]), Number(m[2])]) {
    if (fd <= 2 || fd > 1024) continue;
    while (stdio.length <= fd) stdio.push(null);
    stdio[fd] = fd;
  }
  return stdio;
}

function spawnWith(compiler: string, args: readonly string[], env: Env, stdio: Stdio): ReturnType<typeof Bun.spawn> {
  return Bun.spawn([compiler, ...args], {
    stdio: stdio as ["inherit", "inherit", "inherit"],
    env: env as Record<string, string>,
  });
}

export async function runLocal(compiler: string, args: readonly string[], env: Env): Promise<number> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    const withJobserver = jobserverStdio(env);
    try {
      proc = spawnWith(compiler, args, env, withJobserver ?? ["inherit", "inherit", "inherit"]);
    } catch (e) {
      // A jobserver descriptor that is not open here (EBADF): run without it.
      if (withJobserver === null) throw e;
      proc = spawnWith(compiler, args, env, ["inherit", "inherit", "inherit"]);
    }
  } catch {
    process.stderr.write(`zccache: cannot run '${compiler}': not found (see 'zccache --help')\n`);
    return 127;
  }
  const code = await proc.exited;
  if (proc.signalCode) {
    const sig = proc.signalCode;
    try {
      process.kill(process.pid, sig);
    } catch {
      // fall through to the conventional 128+n exit
    }
    return 128 + (typeof sig === "number" ? sig : (signalNumber(sig) ?? 1));
  }
  return code;
}

function signalNumber(sig: string): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return table[sig];
}
