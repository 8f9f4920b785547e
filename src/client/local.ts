// Running the real compiler in this process's place: original args, stdio, exit code, and
// every descriptor the caller gave us (a make jobserver, bash's `<(…)` as /dev/fd/63, a
// build tool's status pipe), exactly as if the caller had exec'd the compiler itself.
// Every compiler run here carries the re-entry marker, so a zccache it starts runs the
// compiler straight away instead of looping through us again.
type Env = Readonly<Record<string, string | undefined>>;
type Stdio = ("inherit" | number | null)[];

/** Far above any real build's descriptors; bounds the stdio array we hand to spawn. */
const MAX_INHERITED_FD = 4096;

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

/** Every descriptor the caller gave us at its own number; without /proc, the jobserver in MAKEFLAGS. */
async function inheritedStdio(env: Env): Promise<Stdio | null> {
  const { callerDescriptors } = await import("../platform/fds.ts");
  const fds = callerDescriptors(MAX_INHERITED_FD);
  if (fds === null) return jobserverStdio(env);
  const stdio: Stdio = ["inherit", "inherit", "inherit"];
  for (const fd of fds) {
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
  const { withReentryMarker } = await import("../platform/compiler-path.ts");
  const runEnv = withReentryMarker(env);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    const inherited = await inheritedStdio(env);
    try {
      proc = spawnWith(compiler, args, runEnv, inherited ?? ["inherit", "inherit", "inherit"]);
    } catch (e) {
      // A descriptor that closed since we looked (EBADF): run with the standard three.
      if (inherited === null) throw e;
      proc = spawnWith(compiler, args, runEnv, ["inherit", "inherit", "inherit"]);
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
