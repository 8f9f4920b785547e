// Fingerprints a Rust toolchain: `rustc -vV`, the sysroot, and the content of the shared
// libraries that are the compiler (the rustc binary itself is a small launcher). Memoised
// by the binary's identity; the libraries are re-checked by stat on every use.
import * as fs from "node:fs";
import * as path from "node:path";
import { runCapture } from "../../platform/exec.ts";
import { KeyHasher } from "../../platform/hash.ts";
import { type StatSnapshot, snapshotOf } from "../../platform/fsx.ts";
import { stillTrusted } from "../../platform/stat-trust.ts";
import { nowNs } from "../../platform/time.ts";
import { err, errorMessage, ok, type Result } from "../../platform/result.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";

export interface Toolchain {
  /** Digest of everything that identifies the compiler. */
  readonly digest: string;
  /** The host triple from `-vV`. */
  readonly host: string;
  readonly sysroot: string;
}

interface LibMemo {
  readonly snapshot: StatSnapshot;
  readonly hash: string;
  readonly hashedAtNs: bigint;
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

export class RustToolchains {
  private readonly probes = new Map<string, Promise<Result<Probe, string>>>();
  private readonly libs = new Map<string, LibMemo>();

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
      probe = this.runProbe(compiler.path, viaRustc, env, cwd);
      if (!isProxy) this.probes.set(memoKey, probe);
    }
    const p = await probe;
    if (!p.ok) {
      this.probes.delete(memoKey);
      return p;
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
      return ok({ verbose, host, sysroot, libs: sysrootLibs(sysroot) });
    } catch (e) {
      return err(errorMessage(e));
    }
  }

  private libHash(p: string): string | null {
    const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    const known = this.libs.get(p);
    if (known !== undefined && stillTrusted(known.snapshot, known.hashedAtNs, st)) {
      return known.hash;
    }
    try {
      const hashedAtNs = nowNs();
      const hash = hashLargeFile(p);
      this.libs.set(p, { snapshot: snapshotOf(st), hash, hashedAtNs });
      return hash;
    } catch {
      return null;
    }
  }
}
