// Shared harness for end-to-end suites: a private cache root (and so a private daemon) per
// test file, the real CLI binary, real compilers, and clean-up of exactly the daemon we started.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SPECS } from "../src/config/config.ts";

export const REPO_ROOT = path.resolve(import.meta.dir, "..");

/**
 * Every ZCCACHE_* setting variable unset (from the config's own table), for tests that must
 * see defaults and their own config file whatever the caller's environment holds.
 */
export const SETTINGS_UNSET: Readonly<Record<string, undefined>> = Object.fromEntries(Object.values(SPECS).map((s) => [s.env, undefined]));
/** The binary under test; ZCCACHE_TEST_BIN points elsewhere (e.g. a private build). */
export const ZCCACHE = process.env.ZCCACHE_TEST_BIN || path.join(REPO_ROOT, "dist", "zccache");

if (!fs.existsSync(ZCCACHE)) {
  throw new Error(`${ZCCACHE} is missing: run 'npm run build' (npm test does it for you)`);
}

/**
 * Copies the installation under test into `dir` (the launcher and the zccache-core it execs
 * from its own directory, when the build has one) and returns the copy of `zccache`.
 */
export function copyInstallation(dir: string): string {
  const zc = path.join(dir, "zccache");
  fs.copyFileSync(ZCCACHE, zc);
  fs.chmodSync(zc, 0o755);
  const core = path.join(path.dirname(ZCCACHE), "zccache-core");
  if (fs.existsSync(core)) {
    fs.copyFileSync(core, path.join(dir, "zccache-core"));
    fs.chmodSync(path.join(dir, "zccache-core"), 0o755);
  }
  return zc;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly out: string;
  readonly err: string;
}

/** Temp dirs made by tempDir() and not yet removed; CacheEnv.stopAll() removes them. */
const tempDirs: string[] = [];

/**
 * A fresh temp dir, removed by the next CacheEnv.stopAll() (every suite's afterAll; bun
 * runs one file after another) or at exit at the latest.
 */
export function tempDir(prefix = "zc-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes a temp dir now (and forgets it); for helpers that need one only briefly. */
export function removeTempDir(dir: string): void {
  const i = tempDirs.indexOf(dir);
  if (i >= 0) tempDirs.splice(i, 1);
  removeTree(dir);
}

function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    // A test that mounted something inside must unmount it first; say so, do not hide it.
    process.stderr.write(`tests: cannot remove ${dir}: ${String(e)}\n`);
  }
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

/** Whether `pid` is gone or a zombie (exited, not yet reaped). */
export function exited(pid: number): boolean {
  try {
    return /\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/**
 * True once every thread of `pid` has finished exiting. The group leader turns zombie while
 * its other threads may still be running their exit, and the descriptor table they share
 * (a daemon's listening socket among them) is closed only when the last of them is gone.
 */
export function exitedAllThreads(pid: number): boolean {
  if (!exited(pid)) return false;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).every((tid) => tid === String(pid));
  } catch {
    return true;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A user other than root that a test can run zccache as (nobody); see CacheEnv.unprivileged. */
interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

const IS_ROOT = (process.getuid?.() ?? -1) === 0;
const SETPRIV = Bun.which("setpriv") ?? "/usr/bin/setpriv";

/**
 * A private cache root with its own daemon. Each test file calls
 * `afterAll(() => CacheEnv.stopAll())` so its daemons are stopped (and, if one will not
 * stop, its own PIDs killed) when the file ends; bun:test loads this module once for all
 * files, so the hook cannot live here.
 */
export class CacheEnv {
  readonly root: string;
  readonly work: string;
  /** The temp dir holding root and work; removed by stop(). */
  readonly base: string;
  readonly env: Record<string, string | undefined>;
  private static readonly all: CacheEnv[] = [];
  /** Every env of this process, stopped or not: see the exit hook below. */
  private static readonly ever: CacheEnv[] = [];
  private readonly runAs: RunAs | null;

  constructor(extraEnv: Record<string, string | undefined> = {}, runAs: RunAs | null = null) {
    const base = tempDir();
    this.base = base;
    this.runAs = runAs;
    this.root = path.join(base, "cache");
    this.work = path.join(base, "work");
    fs.mkdirSync(this.work, { recursive: true });
    this.env = { ...process.env, ZCCACHE_CACHE_DIR: this.root, ...extraEnv };
    delete this.env.ZCCACHE_DISABLE;
    delete this.env.ZCCACHE_SESSION_ID;
    if (runAs !== null) {
      // The other user's daemon gets a runtime dir of its own inside our temp dir (removed
      // with it) and a home it can write to; the work tree is handed over to it.
      Object.assign(this.env, { HOME: base, ZCCACHE_RUNTIME_DIR: path.join(base, "rt"), BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" });
      for (const p of [base, this.work]) fs.chownSync(p, runAs.uid, runAs.gid);
    }
    CacheEnv.all.push(this);
    CacheEnv.ever.push(this);
  }

  /**
   * A cache env whose zccache commands (and so its daemon and the compilers it runs) run as
   * an unprivileged user: as root, hardlink delivery deliberately falls back to copy, so the
   * hardlink path can only be tested as another user. When we are not root, a plain env.
   */
  static unprivileged(extraEnv: Record<string, string | undefined> = {}): CacheEnv {
    if (!IS_ROOT) return new CacheEnv(extraEnv);
    const id = (flag: string): number => Number(run(["id", flag, "nobody"]).out.trim());
    const uid = id("-u");
    const gid = id("-g");
    if (!Number.isInteger(uid) || uid <= 0 || !fs.existsSync(SETPRIV)) throw new Error("no unprivileged user (nobody) or setpriv to run as");
    return new CacheEnv(extraEnv, { uid, gid });
  }

  private argv(args: readonly string[]): string[] {
    if (this.runAs === null) return [ZCCACHE, ...args];
    const { uid, gid } = this.runAs;
    return [SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ZCCACHE, ...args];
  }

  /** Gives a path we created under the work dir (and its new parents) to the env's user. */
  private handOver(p: string): void {
    if (this.runAs === null) return;
    for (let q = p; q.startsWith(`${this.work}/`); q = path.dirname(q)) fs.chownSync(q, this.runAs.uid, this.runAs.gid);
  }

  /** mkdir -p under the work dir, owned by the env's user. */
  mkdir(rel: string): string {
    const p = path.join(this.work, rel);
    fs.mkdirSync(p, { recursive: true });
    this.handOver(p);
    return p;
  }

  /** `zccache <args…>` in `cwd` (default: the work dir). */
  zc(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined>; stdin?: string } = {}): RunResult {
    return run(this.argv(args), { cwd: opts.cwd ?? this.work, env: { ...this.env, ...opts.env }, stdin: opts.stdin });
  }

  zcAsync(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
    return runAsync(this.argv(args), { cwd: opts.cwd ?? this.work, env: { ...this.env, ...opts.env } });
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
    this.handOver(p);
    return p;
  }

  read(rel: string): Buffer {
    return fs.readFileSync(path.join(this.work, rel));
  }

  /** PIDs of this env's daemons (its ZCCACHE_CACHE_DIR may point away from `root`). */
  daemonPids(): number[] {
    return daemonPidsFor(this.env.ZCCACHE_CACHE_DIR ?? this.root);
  }

  /** Stops this env's daemon (killing it if it will not stop) and removes its temp dir. */
  stop(): void {
    const i = CacheEnv.all.indexOf(this);
    if (i >= 0) CacheEnv.all.splice(i, 1);
    this.stopDaemon();
    this.remove();
  }

  private stopDaemon(): void {
    try {
      // From "/": the work dir may be gone already, and a missing cwd fails the spawn.
      this.zc(["stop"], { cwd: "/" });
    } catch (e) {
      process.stderr.write(`CacheEnv: zccache stop failed: ${String(e)}\n`);
    }
    for (const pid of this.daemonPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // A daemon stopped gracefully removes its own lock file; one killed (here, or by a test
    // that kill -9s it) cannot. These two names belong to this env's cache root alone.
    const sock = this.socketPath();
    for (const p of [sock.replace(/\.sock$/, ".lock"), sock]) fs.rmSync(p, { force: true });
  }

  /** The daemon's lifecycle log (<root>/logs/lifecycle.jsonl), one record per line; [] before any. */
  lifecycleEvents(): (Record<string, unknown> & { event: string })[] {
    const file = path.join(this.root, "logs", "lifecycle.jsonl");
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });
  }

  /** Where this env's daemon listens (as `status` reports it), worked out without asking one. */
  socketPath(): string {
    const runtime = this.env.ZCCACHE_RUNTIME_DIR || `/tmp/zccache-${this.runAs?.uid ?? process.getuid?.() ?? 0}`;
    const id = new Bun.CryptoHasher("sha256").update(this.env.ZCCACHE_CACHE_DIR ?? this.root).digest("hex").slice(0, 20);
    return path.join(runtime, `${id}.sock`);
  }

  private remove(): void {
    removeTempDir(this.base);
  }

  /** Kills whatever daemon still serves any env this process made, and removes their files. */
  static reapAll(): void {
    for (const c of CacheEnv.ever) {
      if (c.daemonPids().length > 0 || fs.existsSync(c.base)) c.stop();
    }
  }

  /**
   * Every daemon first (an env may point its cache dir into another's), then every temp
   * dir, the envs' and those of tempDir().
   */
  static stopAll(): void {
    const envs = CacheEnv.all.splice(0);
    for (const c of envs) c.stopDaemon();
    for (const c of envs) c.remove();
    for (const dir of tempDirs.splice(0)) removeTree(dir);
  }
}

// Safety net for a file that forgot `afterAll(() => CacheEnv.stopAll())`: never leave a
// daemon behind when the test process ends (only the PIDs of our own cache roots).
// A test that failed half-way can leave compiles running that start a daemon again after
// its file's stopAll(): at exit, stop (kill) the daemons of every env we ever made as well.
process.on("exit", () => {
  CacheEnv.stopAll();
  CacheEnv.reapAll();
});

export function hasTool(name: string): boolean {
  return Bun.which(name) !== null;
}

/** CI installs every tool the suites drive (scripts/ensure-test-tools.sh): nothing may skip there. */
const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/**
 * Reports a missing prerequisite: in CI (CI=true) it throws, failing the test or the file;
 * locally it prints the reason and returns, so the caller skips. `what` says what is skipped.
 */
export function missing(reason: string, what: string): void {
  if (IN_CI) throw new Error(`${reason}: a missing tool is a failure in CI (CI=true)`);
  console.warn(`${reason}: ${what} skipped`);
}

/** True when `name` is installed; otherwise missing() (throws in CI, prints locally) and false. */
export function requireTool(name: string, what: string): boolean {
  if (hasTool(name)) return true;
  missing(`${name} is not installed`, what);
  return false;
}

/** Runs a compiler (or any tool) directly, in `cwd`. */
export function bare(argv: readonly string[], cwd: string, env?: Record<string, string | undefined>): RunResult {
  return run(argv, { cwd, env });
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
