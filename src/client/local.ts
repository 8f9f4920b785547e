// Running the real compiler in this process's place: original args, stdio and exit code.
type Env = Readonly<Record<string, string | undefined>>;

export async function runLocal(compiler: string, args: readonly string[], env: Env): Promise<number> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([compiler, ...args], {
      stdio: ["inherit", "inherit", "inherit"],
      env: env as Record<string, string>,
    });
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
