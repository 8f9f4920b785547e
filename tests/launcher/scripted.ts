// A sandbox for driving the native launcher against a scripted daemon: a copy of the
// launcher beside a fake zccache-core (fixtures/core.c), a private runtime dir, and a
// Bun.listen server on exactly the socket the launcher derives, answering crafted frames.
import type { Socket, UnixSocketListener } from "bun";
import * as fs from "node:fs";
import * as path from "node:path";
import { run, type RunResult, tempDir, ZCCACHE } from "../helpers.ts";

const MAGIC = 0x4643435a;
export const VERSION = 2;
export const KIND = { json: 0, request: 1, reply: 2, progress: 3 } as const;

/** The launcher builds under test: the -O2 one and the sanitizer one, beside ZCCACHE. */
export const LAUNCHER_DIR = process.env.ZCCACHE_TEST_LAUNCHER_DIR || path.dirname(ZCCACHE);
export const BUILDS = ["zccache", "zccache-asan"].map((name) => {
  const p = path.join(LAUNCHER_DIR, name);
  const head = fs.existsSync(p) ? fs.readFileSync(p).subarray(0, 4) : Buffer.alloc(0);
  if (!fs.existsSync(path.join(LAUNCHER_DIR, "zccache-asan")) || head.toString("latin1") !== "\x7fELF") {
    throw new Error(`${p} is not the native launcher: run 'npm run build' on a machine with cc`);
  }
  return p;
});

/** Sanitizer settings for the asan build: any report fails the run visibly. */
export const SANITIZER_ENV = {
  ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0:exitcode=86",
  UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1:exitcode=87",
};

export function sanitizerReport(r: RunResult): string | null {
  const m = /(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)[^\n]*/.exec(r.err);
  return m === null ? null : m[0];
}

export function frame(kind: number, payload: Uint8Array, version = VERSION, length = payload.length): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt16LE(version, 4);
  h.writeUInt16LE(kind, 6);
  h.writeUInt32LE(length, 8);
  return Buffer.concat([h, payload]);
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const bytes = (b: Uint8Array | string): Buffer => {
  const x = Buffer.from(b);
  return Buffer.concat([u32(x.length), x]);
};

export function resultPayload(exitCode: number, stdout: Uint8Array | string, stderr: Uint8Array | string): Buffer {
  const code = Buffer.alloc(4);
  code.writeInt32LE(exitCode);
  return Buffer.concat([Buffer.of(0), code, bytes(stdout), bytes(stderr)]);
}

export function runLocalPayload(compilerPath: string): Buffer {
  return Buffer.concat([Buffer.of(1), bytes(compilerPath)]);
}

/** A kind-1 request as the test reads it (decoded here by hand, independently of src/). */
export interface SeenRequest {
  version: number;
  kind: number;
  clientVersion: string;
  compiler: string;
  cwd: string;
  selfExe: string;
  sessionId: string;
  clientPid: number;
  args: string[];
  env: string[];
}

export function parseRequest(b: Buffer): SeenRequest {
  let at = 12;
  const num = (): number => {
    const v = b.readUInt32LE(at);
    at += 4;
    return v;
  };
  const str = (): string => {
    const n = num();
    const s = b.subarray(at, at + n).toString("utf8");
    at += n;
    return s;
  };
  const [clientVersion, compiler, cwd, selfExe, sessionId] = [str(), str(), str(), str(), str()];
  const clientPid = num();
  const args = Array.from({ length: num() }, str);
  const env = Array.from({ length: num() }, str);
  if (at !== b.length) throw new Error(`request has ${b.length - at} trailing bytes`);
  return { version: b.readUInt16LE(4), kind: b.readUInt16LE(6), clientVersion, compiler, cwd, selfExe, sessionId, clientPid, args, env };
}

/** What the scripted daemon does once a whole request frame arrived. */
export type Script = (reply: Replier, request: Buffer) => Promise<void> | void;

export interface Replier {
  send(b: Uint8Array): void;
  close(): void;
}

interface Conn {
  buf: Buffer;
  pending: Buffer;
  closing: boolean;
  started: boolean;
}

function flush(s: Socket<Conn>): void {
  const c = s.data;
  while (c.pending.length > 0) {
    const n = s.write(c.pending);
    if (n <= 0) return;
    c.pending = c.pending.subarray(n);
  }
  if (c.closing) s.end();
}

export class Sandbox {
  readonly dir = tempDir("zc-launcher-");
  readonly runtimeDir = path.join(this.dir, "run");
  readonly cacheDir = path.join(this.dir, "cache");
  readonly work = path.join(this.dir, "work");
  readonly launcher: string;
  readonly socketPath: string;
  connections = 0;
  requests: Buffer[] = [];
  private server: UnixSocketListener<Conn> | null = null;

  constructor(build: string, coreBinary: string) {
    fs.mkdirSync(this.runtimeDir, { mode: 0o700 });
    fs.mkdirSync(this.work);
    this.launcher = path.join(this.dir, path.basename(build) === "zccache" ? "zccache" : "zccache-asan");
    fs.copyFileSync(build, this.launcher);
    fs.chmodSync(this.launcher, 0o755);
    fs.copyFileSync(coreBinary, path.join(this.dir, "zccache-core"));
    fs.chmodSync(path.join(this.dir, "zccache-core"), 0o755);
    const id = new Bun.CryptoHasher("sha256").update(this.cacheDir).digest("hex").slice(0, 20);
    this.socketPath = path.join(this.runtimeDir, `${id}.sock`);
  }

  serve(script: Script, socketPath = this.socketPath): void {
    this.server = Bun.listen<Conn>({
      unix: socketPath,
      socket: {
        open: (s) => {
          this.connections++;
          s.data = { buf: Buffer.alloc(0), pending: Buffer.alloc(0), closing: false, started: false };
        },
        data: (s, chunk) => {
          const c = s.data;
          c.buf = Buffer.concat([c.buf, chunk]);
          if (c.started || c.buf.length < 12 || c.buf.length < 12 + c.buf.readUInt32LE(8)) return;
          c.started = true;
          this.requests.push(c.buf);
          const replier: Replier = {
            send: (b) => {
              c.pending = Buffer.concat([c.pending, b]);
              flush(s);
            },
            close: () => {
              c.closing = true;
              flush(s);
            },
          };
          void script(replier, c.buf);
        },
        drain: (s) => flush(s),
        error: () => {},
      },
    });
  }

  /** A server that takes connections and hangs up on each at once. */
  serveHangUp(): void {
    this.server = Bun.listen<Conn>({
      unix: this.socketPath,
      socket: {
        open: (s) => {
          this.connections++;
          s.terminate();
        },
        data: () => {},
        error: () => {},
      },
    });
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...SANITIZER_ENV,
      ZCCACHE_CACHE_DIR: this.cacheDir,
      ZCCACHE_RUNTIME_DIR: this.runtimeDir,
      ...extra,
    };
    for (const k of ["ZCCACHE_DISABLE", "ZCCACHE_REENTERED", "ZCCACHE_SESSION_ID", "ZCCACHE_CLIENT_TIMEOUT_SECS"]) {
      if (!(k in extra)) delete env[k];
    }
    return env;
  }

  /** Always asynchronous: the scripted daemon lives on this process's event loop. */
  async run(argv: readonly string[], extra: Record<string, string | undefined> = {}): Promise<RunResult & { pid: number }> {
    const p = Bun.spawn([...argv], { cwd: this.work, env: this.env(extra) as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [o, e, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).arrayBuffer(), p.exited]);
    const stdout = Buffer.from(o);
    const stderr = Buffer.from(e);
    return { code, stdout, stderr, out: stdout.toString(), err: stderr.toString(), pid: p.pid };
  }

  /** `dev:ino:size` of the launcher copy, as the recursion marker names an executable. */
  launcherId(): string {
    const st = fs.statSync(this.launcher);
    return `${st.dev}:${st.ino}:${st.size}`;
  }

  dispose(): void {
    this.server?.stop(true);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Compiles the C fixtures once per test file into a temp dir. */
export function buildFixtures(): { core: string; nonblock: string; shim: string; dir: string } {
  const dir = tempDir("zc-launcher-fx-");
  const src = path.join(import.meta.dir, "fixtures");
  const cc = (args: string[]): void => {
    const r = run(["cc", "-O1", "-Wall", ...args]);
    if (r.code !== 0) throw new Error(`cc ${args.join(" ")}: ${r.err}`);
  };
  cc(["-o", path.join(dir, "core"), path.join(src, "core.c")]);
  cc(["-o", path.join(dir, "nonblock"), path.join(src, "nonblock.c")]);
  cc(["-shared", "-fPIC", "-o", path.join(dir, "write-shim.so"), path.join(src, "write-shim.c")]);
  return { core: path.join(dir, "core"), nonblock: path.join(dir, "nonblock"), shim: path.join(dir, "write-shim.so"), dir };
}
