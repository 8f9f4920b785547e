// Shared harness for end-to-end suites: a private cache root (and so a private daemon) per
// test file, the real CLI binary, real compilers, and clean-up of exactly the daemon we started.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dir, "..");
/** The binary under test; ZCCACHE_TEST_BIN points elsewhere (e.g. a private build). */
export const ZCCACHE = process.env.ZCCACHE_TEST_BIN || path.join(REPO_ROOT, "dist", "zccache");

if (!fs.existsSync(ZCCACHE)) {
  throw new Error(`${ZCCACHE} is missing: run 'npm run build' (npm test does it for you)`);
}

export interface RunResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly out: string;
  readonly err: string;
}

export function tempDir(prefix = "zc-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs a command to completion (no shell). */
export function run(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string | Buffer } = {},
): RunResult {
  const r = Bun.spawnSync([...argv], {
    cwd: opts.cwd,
    env: (opts.env ?? process.env) as Record<string, string>,
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = Buffer.from(r.stdout ?? new Uint8Array());
  const stderr = Buffer.from(r.stderr ?? new Uint8Array());
  return { code: r.exitCode ?? 128, stdout, stderr, out: stdout.toString(), err: stderr.toString() };
}

/** Async variant for tests that run many clients at once. */
export async function runAsync(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<RunResult> {
  const p = Bun.spawn([...argv], {
    cwd: opts.cwd,
    env: (opts.env ?? process.env) as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [o, e, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).arrayBuffer(), p.exited]);
  const stdout = Buffer.from(o);
  const stderr = Buffer.from(e);
  return { code, stdout, stderr, out: stdout.toString(), err: stderr.toString() };
}

export interface Status {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  entries: number;
  bytes: number;
  reasons: Record<string, number>;
  languages: Record<string, { hits: number; misses: number; uncacheable: number; errors: number }>;
  pid: number;
  version: string;
  socket: string;
  runtime_dir: string;
  cache_dir: string;
  store: string;
  [k: string]: unknown;
}

/** PIDs of live `zccache daemon --cache-dir <root>` processes (read from /proc). */
export function daemonPidsFor(root: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const argv = cmd.split("\0");
    const i = argv.indexOf("--cache-dir");
    if (argv.includes("daemon") && i >= 0 && argv[i + 1] === root) {
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        if (/\) Z /.test(stat)) continue; // zombie: already exited
      } catch {
        continue;
      }
      pids.push(Number(entry));
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private cache root with its own daemon. Each test file calls
 * `afterAll(() => CacheEnv.stopAll())` so its daemons are stopped (and, if one will not
 * stop, its own PIDs killed) when the file ends; bun:test loads this module once for all
 * files, so the hook cannot live here.
 */
export class CacheEnv {
  readonly root: string;
  readonly work: string;
  readonly env: Record<string, string | undefined>;
  private static readonly all: CacheEnv[] = [];

  constructor(extraEnv: Record<string, string | undefined> = {}) {
    const base = tempDir();
    this.root = path.join(base, "cache");
    this.work = path.join(base, "work");
    fs.mkdirSync(this.work, { recursive: true });
    this.env = { ...process.env, ZCCACHE_CACHE_DIR: this.root, ...extraEnv };
    delete this.env.ZCCACHE_DISABLE;
    delete this.env.ZCCACHE_SESSION_ID;
    CacheEnv.all.push(this);
  }

  /** `zccache <args…>` in `cwd` (default: the work dir). */
  zc(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string } = {}): RunResult {
    return run([ZCCACHE, ...args], { cwd: opts.cwd ?? this.work, env: { ...this.env, ...opts.env }, stdin: opts.stdin });
  }

  zcAsync(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
    return runAsync([ZCCACHE, ...args], { cwd: opts.cwd ?? this.work, env: { ...this.env, ...opts.env } });
  }

  status(): Status {
    const r = this.zc(["status", "--json"]);
    if (r.code !== 0) throw new Error(`status failed: ${r.err}`);
    return JSON.parse(r.out) as Status;
  }

  write(rel: string, content: string | Buffer): string {
    const p = path.join(this.work, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  }

  read(rel: string): Buffer {
    return fs.readFileSync(path.join(this.work, rel));
  }

  /** PIDs of this env's daemons (its ZCCACHE_CACHE_DIR may point away from `root`). */
  daemonPids(): number[] {
    return daemonPidsFor(this.env.ZCCACHE_CACHE_DIR ?? this.root);
  }

  stop(): void {
    this.zc(["stop"]);
    for (const pid of this.daemonPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  static stopAll(): void {
    for (const c of CacheEnv.all.splice(0)) c.stop();
  }
}

// Safety net for a file that forgot `afterAll(() => CacheEnv.stopAll())`: never leave a
// daemon behind when the test process ends (only the PIDs of our own cache roots).
process.on("exit", () => CacheEnv.stopAll());

export function hasTool(name: string): boolean {
  return Bun.which(name) !== null;
}

/** Runs a compiler (or any tool) directly, in `cwd`. */
export function bare(argv: readonly string[], cwd: string, env?: Record<string, string | undefined>): RunResult {
  return run(argv, { cwd, env });
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
