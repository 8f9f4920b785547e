// Shared pieces of the reliability suite: a seeded PRNG, bare-vs-cached comparison, /proc
// probes (fd count, RSS), tmpfs mounts, and a read-only view of a cache root's index.
// Everything that starts or stops daemons goes through tests/helpers.ts (CacheEnv).
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as path from "node:path";
import { run, type RunResult, sleepMs } from "../helpers.ts";

// ---------------------------------------------------------------------------------------
// Seeds and the PRNG

/** A seed from `name` in the environment (decimal or 0x hex), else a fresh random one. */
export function seedFromEnv(name: string): number {
  const v = process.env[name];
  if (v !== undefined && v.trim() !== "") {
    const n = Number(v.trim());
    if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number`);
    return n >>> 0;
  }
  return (Math.floor(Math.random() * 0xffffffff) ^ Date.now()) >>> 0;
}

export function intFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return fallback;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v} is not a count`);
  return n;
}

/** sfc32: small, fast, and good enough to drive a fuzzer; fully determined by the seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)] as T;
  }

  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let x = this.float() * total;
    for (const [w, v] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return (items[items.length - 1] as readonly [number, T])[1];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------
// Comparing a compile through zccache with the same compile run bare

export interface Observed {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Output files (by path relative to the cwd) and their bytes, or null when absent. */
  readonly files: ReadonlyMap<string, Buffer | null>;
}

export function observe(r: RunResult, cwd: string, outputs: readonly string[]): Observed {
  const files = new Map<string, Buffer | null>();
  for (const o of outputs) {
    const p = path.resolve(cwd, o);
    files.set(o, fs.existsSync(p) ? fs.readFileSync(p) : null);
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, files };
}

export function removeOutputs(cwd: string, outputs: readonly string[]): void {
  for (const o of outputs) fs.rmSync(path.resolve(cwd, o), { force: true });
}

function short(b: Buffer | null): string {
  if (b === null) return "<absent>";
  return `${b.length} bytes sha256=${sha256(b).slice(0, 16)}`;
}

/** "" when identical, else a readable account of every difference. */
export function diffObserved(bareRun: Observed, cached: Observed): string {
  const out: string[] = [];
  if (bareRun.code !== cached.code) out.push(`exit code: bare ${bareRun.code}, zccache ${cached.code}`);
  if (!bareRun.stdout.equals(cached.stdout)) {
    out.push(`stdout differs:\n--- bare ---\n${bareRun.stdout.toString()}\n--- zccache ---\n${cached.stdout.toString()}`);
  }
  if (!bareRun.stderr.equals(cached.stderr)) {
    out.push(`stderr differs:\n--- bare ---\n${bareRun.stderr.toString()}\n--- zccache ---\n${cached.stderr.toString()}`);
  }
  for (const [name, b] of bareRun.files) {
    const z = cached.files.get(name) ?? null;
    const same = b === null ? z === null : z !== null && b.equals(z);
    if (!same) {
      let detail = `${name}: bare ${short(b)}, zccache ${short(z)}`;
      if (name.endsWith(".d") && b !== null && z !== null) detail += `\n--- bare ---\n${b}\n--- zccache ---\n${z}`;
      out.push(detail);
    }
  }
  return out.join("\n");
}

export function sha256(b: Uint8Array | string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(b);
  return h.digest("hex");
}

// ---------------------------------------------------------------------------------------
// Processes

/** Open file descriptors of a process (entries of /proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size in KiB, from /proc/<pid>/status. */
export function vmRssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** Real uid of a process, from /proc/<pid>/status. */
export function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no Uid for ${pid}`);
  return Number(m[1]);
}

export function killQuietly(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

export async function waitUntil(pred: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleepMs(stepMs);
  }
  return pred();
}

/** Runs async tasks with at most `limit` in flight; results in input order. */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= tasks.length) return;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------
// Small filesystems

/** Mounts a tmpfs at `dir` with the given options; false when the machine does not allow it. */
export function tryMountTmpfs(dir: string, options: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  if ((process.getuid?.() ?? 1) !== 0) return false;
  const r = run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]);
  return r.code === 0;
}

export function umountQuietly(dir: string): void {
  if (run(["umount", dir]).code !== 0) run(["umount", "-l", dir]);
}

// ---------------------------------------------------------------------------------------
// The store, read from outside (the daemon must be stopped or not writing)

export interface IndexEntry {
  readonly id: number;
  readonly manifestKey: string;
  readonly record: string;
}

export interface OutputRef {
  readonly role: string;
  readonly path: string;
  readonly hash: string;
  readonly size: number;
}

export function readIndex(root: string): IndexEntry[] {
  const db = new Database(path.join(root, "index.sqlite"), { readonly: true });
  try {
    return db
      .query<{ id: number; manifest_key: string; record: string }, []>("SELECT id, manifest_key, record FROM entries ORDER BY id")
      .all()
      .map((r) => ({ id: r.id, manifestKey: r.manifest_key, record: r.record }));
  } finally {
    db.close();
  }
}

/** A row is "<sha256 of json>:<json>" (the seal that catches damaged rows). */
export function outputsOf(record: string): OutputRef[] {
  const r = JSON.parse(record.slice(record.indexOf(":") + 1)) as { outputs?: OutputRef[] };
  return r.outputs ?? [];
}

/** The blob's file: plain, or `<hash>.zst` when it was stored compressed (plain when neither exists). */
export function blobPath(root: string, hash: string): string {
  const plain = path.join(root, "blobs", hash.slice(0, 2), hash);
  return !fs.existsSync(plain) && fs.existsSync(`${plain}.zst`) ? `${plain}.zst` : plain;
}

/** A blob's content (decompressed when stored compressed); null when missing or not a zstd frame. */
export function blobContent(root: string, hash: string): Buffer | null {
  const p = blobPath(root, hash);
  if (!fs.existsSync(p)) return null;
  const bytes = fs.readFileSync(p);
  if (!p.endsWith(".zst")) return bytes;
  try {
    return Buffer.from(Bun.zstdDecompressSync(bytes));
  } catch {
    return null;
  }
}

/** Whether a blob's file (decoded when compressed) still holds the bytes its name hashes. */
export function blobIntact(root: string, hash: string): boolean {
  const content = blobContent(root, hash);
  return content !== null && sha256(content) === hash;
}

/** Every blob file under the root's blob dir (not temp files). */
export function listBlobs(root: string): string[] {
  const dir = path.join(root, "blobs");
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const shard of fs.readdirSync(dir)) {
    const sp = path.join(dir, shard);
    if (!fs.statSync(sp).isDirectory()) continue;
    for (const name of fs.readdirSync(sp)) if (/^[0-9a-f]{64}(\.zst)?$/.test(name)) out.push(path.join(sp, name));
  }
  return out;
}

export function statusNum(st: Record<string, unknown>, key: string): number {
  const v = st[key];
  return typeof v === "number" ? v : 0;
}

export function reason(st: { reasons: Record<string, number> }, name: string): number {
  return st.reasons[name] ?? 0;
}
