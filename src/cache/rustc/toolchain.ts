// Fingerprints a Rust toolchain: `rustc -vV`, the sysroot, and the content of the shared
// libraries that are the compiler (the rustc binary itself is a small launcher). Memoised
// by the binary's identity; the libraries are re-checked by stat on every use.
import * as fs from "node:fs";
import * as path from "node:path";
import { runCapture } from "../../platform/exec.ts";
import { KeyHasher } from "../../platform/hash.ts";
import { countComputed, FileFingerprints, remember, remembered } from "../fingerprint-memo.ts";
import { err, errorMessage, ok, type Result } from "../../platform/result.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";

export interface Toolchain {
  /** Digest of everything that identifies the compiler. */
  readonly digest: string;
  /** The host triple from `-vV`. */
  readonly host: string;
  readonly sysroot: string;
}

interface Probe {
  readonly verbose: string;
  readonly host: string;
  readonly sysroot: string;
  readonly libs: readonly string[];
}

const CHUNK_BYTES = 4 * 1024 * 1024;

/** Streams a (large) file through SHA-256 without holding it in memory. */
function hashLargeFile(p: string): string {
  const h = new Bun.CryptoHasher("sha256");
  const fd = fs.openSync(p, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

function sysrootLibs(sysroot: string): string[] {
  const dir = path.join(sysroot, "lib");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^lib(rustc_driver|LLVM|std)-?.*\.so/.test(n) || /^libLLVM\.so/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** A probe a daemon before this one ran for the same binary (by path and content hash). */
function keptProbe(memoKey: string): Probe | null {
  const [binPath = "", binHash = "", via = ""] = memoKey.split("\u0000");
  const text = remembered(`rust-probe:${binPath}\u0000${via}`);
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { verbose?: unknown; host?: unknown; sysroot?: unknown; binary?: unknown };
    if (typeof v.verbose !== "string" || typeof v.host !== "string" || typeof v.sysroot !== "string" || v.binary !== binHash) return null;
    return { verbose: v.verbose, host: v.host, sysroot: v.sysroot, libs: sysrootLibs(v.sysroot) };
  } catch {
    return null;
  }
}

export class RustToolchains {
  private readonly probes = new Map<string, Promise<Result<Probe, string>>>();
  private readonly libFiles = new FileFingerprints("rust-lib");

  /** `env` and `cwd` matter only for rustup proxies, which pick a toolchain from them. */
  async identify(
    compiler: CompilerIdentity,
    viaRustc: string | null,
    env: Readonly<Record<string, string>>,
    cwd: string,
  ): Promise<Result<Toolchain, string>> {
    const isProxy = compiler.realName === "rustup";
    const memoKey = `${compiler.path}\u0000${compiler.hash}\u0000${viaRustc ?? ""}`;
    let probe = isProxy ? undefined : this.probes.get(memoKey);
    if (probe === undefined) {
      // The binary is named by its content hash: what it said of itself holds while that does.
      const kept = isProxy ? null : keptProbe(memoKey);
      probe = kept !== null ? Promise.resolve(ok(kept)) : this.runProbe(compiler.path, viaRustc, env, cwd);
      if (!isProxy) this.probes.set(memoKey, probe);
    }
    const p = await probe;
    if (!p.ok) {
      this.probes.delete(memoKey);
      return p;
    }
    if (!isProxy) {
      const { verbose, host, sysroot } = p.value;
      remember(`rust-probe:${compiler.path}\u0000${viaRustc ?? ""}`, JSON.stringify({ verbose, host, sysroot, binary: compiler.hash }));
    }
    const h = new KeyHasher("rust-toolchain");
    h.field("binary", isProxy ? "rustup-proxy" : compiler.hash);
    h.field("verbose", p.value.verbose);
    h.field("sysroot", p.value.sysroot);
    for (const lib of p.value.libs) {
      const hash = this.libHash(lib);
      if (hash === null) return err(`cannot read ${lib}`);
      h.field(path.basename(lib), hash);
    }
    return ok({ digest: h.hex(), host: p.value.host, sysroot: p.value.sysroot });
  }

  private async runProbe(
    compilerPath: string,
    viaRustc: string | null,
    env: Readonly<Record<string, string>>,
    cwd: string,
  ): Promise<Result<Probe, string>> {
    try {
      const pre = viaRustc === null ? [] : [viaRustc];
      const runEnv = { ...env };
      const [vv, sr] = await Promise.all([
        runCapture([compilerPath, ...pre, "-vV"], { cwd, env: runEnv }),
        runCapture([compilerPath, ...pre, "--print", "sysroot"], { cwd, env: runEnv }),
      ]);
      if (vv.exitCode !== 0 || sr.exitCode !== 0) return err(`${compilerPath} -vV failed`);
      const verbose = vv.stdout.toString("utf8");
      const host = /^host: (\S+)$/m.exec(verbose)?.[1];
      const sysroot = sr.stdout.toString("utf8").trim();
      if (host === undefined || sysroot === "") return err(`${compilerPath}: no host or sysroot`);
      countComputed();
      return ok({ verbose, host, sysroot, libs: sysrootLibs(sysroot) });
    } catch (e) {
      return err(errorMessage(e));
    }
  }

  private libHash(p: string): string | null {
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    try {
      return this.libFiles.hash(p, st, () => hashLargeFile(p));
    } catch {
      return null;
    }
  }
}
