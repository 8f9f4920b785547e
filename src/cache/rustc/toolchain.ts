// Fingerprints a Rust toolchain: `rustc -vV`, the sysroot, and the content of the shared
// libraries that are the compiler (the rustc binary itself is a small launcher). Memoised
// by the binary's identity; the libraries are re-checked by stat on every use. The probe's
// `-vV` text also answers cargo's own `rustc -vV` while the libraries are the ones it ran with.
import * as fs from "node:fs";
import * as path from "node:path";
import { runCapture } from "../../platform/exec.ts";
import { KeyHasher } from "../../platform/hash.ts";
import { countComputed, FileFingerprints, remember, remembered } from "../fingerprint-memo.ts";
import { err, errorMessage, ok, type Result } from "../../platform/result.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import { RACY_WINDOW_NS } from "../../platform/stat-trust.ts";
import { changedSince, realPathOrNull, statSnapshot } from "../../platform/fsx.ts";

export interface Toolchain {
  /** Digest of everything that identifies the compiler. */
  readonly digest: string;
  /** The host triple from `-vV`. */
  readonly host: string;
  readonly sysroot: string;
  /**
   * What `rustc -vV` prints, byte for byte, when this toolchain is still the one the probe
   * ran (same binary, same library contents) and the probe printed nothing else; else null.
   */
  readonly versionText: string | null;
}

interface Probe {
  readonly verbose: string;
  readonly host: string;
  readonly sysroot: string;
  readonly libs: readonly string[];
  /**
   * The binary is its sysroot's own (`<sysroot>/bin/<name>` is the same file): not a rustup
   * proxy, a version-manager shim or a wrapper script that may pick another toolchain per
   * call. Only such a probe is memoised, and only its text is replayed.
   */
  readonly own: boolean;
  /**
   * `-vV` exited 0 with nothing on stderr, printed ASCII only, ran without RUSTC_*
   * variables, and the libraries include the compiler's (librustc_driver): its text may be
   * replayed while they hash the same.
   */
  replayable: boolean;
  /** The libraries' content hashes when the probe ran (filled by the first identify after a fresh probe). */
  libHashes: Record<string, string> | null;
  /** When a fresh probe started (wall clock, ns); null for one kept from an earlier daemon. */
  readonly startedNs: bigint | null;
}

/** Whether `compilerPath` is the very file `<sysroot>/bin/<its name>` is. */
export function isSysrootOwn(compilerPath: string, sysroot: string): boolean {
  const real = realPathOrNull(compilerPath);
  return real !== null && realPathOrNull(path.join(sysroot, "bin", path.basename(real))) === real;
}

/** A file gone, or changed at or after `sinceNs` give or take the racy window. */
function changedNear(p: string, sinceNs: bigint): boolean {
  const snap = statSnapshot(p);
  return snap === null || changedSince(snap, sinceNs - RACY_WINDOW_NS);
}

/** RUSTC_* variables that configure cargo's wrappers, not the compiler. */
const WRAPPER_ENV = new Set(["RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER"]);

/**
 * Whether `env` sets a RUSTC_* variable that may change what rustc prints of itself
 * (RUSTC_OVERRIDE_VERSION_STRING, RUSTC_LOG, or one a wrapper script reads): a probe run
 * with one is not replayed, and a `-vV` asked with one is left to rustc.
 */
export function setsRustcVariables(env: Readonly<Record<string, string>>): boolean {
  return Object.keys(env).some((n) => n.startsWith("RUSTC_") && !WRAPPER_ENV.has(n));
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
  const text = remembered(`${PROBE_MEMO}${binPath}\u0000${via}`);
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { verbose?: unknown; host?: unknown; sysroot?: unknown; binary?: unknown; replayable?: unknown; libs?: unknown };
    if (typeof v.verbose !== "string" || typeof v.host !== "string" || typeof v.sysroot !== "string" || v.binary !== binHash) return null;
    if (!isStringRecord(v.libs) || !isSysrootOwn(binPath, v.sysroot)) return null;
    const libs = sysrootLibs(v.sysroot);
    return { verbose: v.verbose, host: v.host, sysroot: v.sysroot, libs, own: true, replayable: v.replayable === true, libHashes: v.libs, startedNs: null };
  } catch {
    return null;
  }
}

/**
 * The memo's name prefix; "2": probes since `-vV` replay record their libraries and whether
 * they may be replayed, and only a binary that is its sysroot's own is kept.
 */
const PROBE_MEMO = "rust-probe2:";

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

function sameHashes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * A rustup proxy picks its toolchain per call (RUSTUP_TOOLCHAIN, rust-toolchain files), so
 * nothing it says of itself may be memoised. rustup installs one as a hard link to the
 * `rustup` beside it, or as a symlink to it. Recognised up front to spare a probe; any other
 * binary that is not its sysroot's own (a copy of rustup, a shim) is recognised after one.
 */
export function isRustupProxy(compiler: CompilerIdentity): boolean {
  if (compiler.realName === "rustup") return true;
  try {
    const me = fs.statSync(compiler.path);
    const rustup = fs.statSync(path.join(path.dirname(compiler.path), "rustup"), { throwIfNoEntry: false });
    return rustup !== undefined && rustup.ino === me.ino && rustup.dev === me.dev;
  } catch {
    return false;
  }
}

export class RustToolchains {
  private readonly probes = new Map<string, Promise<Result<Probe, string>>>();
  private readonly libFiles = new FileFingerprints("rust-lib");

  /** Binaries (by memo key) a probe found not to be their sysroot's own: probed on every call. */
  private readonly foreign = new Set<string>();

  /** Whether a probe already found this binary not to be its sysroot's own (so `-vV` would not be answered). */
  knownForeign(compiler: CompilerIdentity, viaRustc: string | null): boolean {
    return this.foreign.has(`${compiler.path}\u0000${compiler.hash}\u0000${viaRustc ?? ""}`);
  }

  /** `env` and `cwd` matter only for binaries that pick a toolchain per call (rustup proxies, shims). */
  async identify(
    compiler: CompilerIdentity,
    viaRustc: string | null,
    env: Readonly<Record<string, string>>,
    cwd: string,
  ): Promise<Result<Toolchain, string>> {
    const isProxy = isRustupProxy(compiler);
    const memoKey = `${compiler.path}\u0000${compiler.hash}\u0000${viaRustc ?? ""}`;
    const memoised = !isProxy && !this.foreign.has(memoKey);
    for (let attempt = 0; ; attempt++) {
      let probe = memoised ? this.probes.get(memoKey) : undefined;
      if (probe === undefined) {
        // The binary is named by its content hash: what it said of itself holds while that
        // does, and while the libraries it loads keep the content they had (checked below).
        const kept = !memoised || attempt > 0 ? null : keptProbe(memoKey);
        probe = kept !== null ? Promise.resolve(ok(kept)) : this.runProbe(compiler.path, viaRustc, env, cwd);
        if (memoised) this.probes.set(memoKey, probe);
      }
      const p = await probe;
      if (!p.ok) {
        this.probes.delete(memoKey);
        return p;
      }
      const keep = memoised && p.value.own;
      if (!keep) {
        this.probes.delete(memoKey);
        if (!isProxy) this.foreign.add(memoKey);
      }
      const libHashes: Record<string, string> = {};
      for (const lib of p.value.libs) {
        const hash = this.libHash(lib);
        if (hash === null) return err(`cannot read ${lib}`);
        libHashes[lib] = hash;
      }
      if (p.value.libHashes === null) {
        // A fresh probe: its libraries are hashed here, right after it ran. One of them (or
        // the binary) changed while it ran may not match what it printed: not replayed.
        p.value.libHashes = libHashes;
        const started = p.value.startedNs ?? 0n;
        if ([compiler.path, ...p.value.libs].some((f) => changedNear(f, started))) p.value.replayable = false;
        if (keep) {
          const { verbose, host, sysroot, replayable } = p.value;
          remember(`${PROBE_MEMO}${compiler.path}\u0000${viaRustc ?? ""}`, JSON.stringify({ verbose, host, sysroot, binary: compiler.hash, replayable, libs: libHashes }));
        }
      } else if (!sameHashes(p.value.libHashes, libHashes) && attempt === 0) {
        // The compiler's libraries changed under the same binary: what it printed may have too.
        this.probes.delete(memoKey);
        continue;
      }
      const h = new KeyHasher("rust-toolchain");
      h.field("binary", isProxy ? "rustup-proxy" : compiler.hash);
      h.field("verbose", p.value.verbose);
      h.field("sysroot", p.value.sysroot);
      for (const lib of p.value.libs) h.field(path.basename(lib), libHashes[lib] as string);
      const current = keep && p.value.replayable && sameHashes(p.value.libHashes, libHashes);
      return ok({ digest: h.hex(), host: p.value.host, sysroot: p.value.sysroot, versionText: current ? p.value.verbose : null });
    }
  }

  private async runProbe(
    compilerPath: string,
    viaRustc: string | null,
    env: Readonly<Record<string, string>>,
    cwd: string,
  ): Promise<Result<Probe, string>> {
    try {
      const startedNs = BigInt(Date.now()) * 1_000_000n;
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
      const libs = sysrootLibs(sysroot);
      const replayable =
        vv.stderr.length === 0 &&
        /^[\x20-\x7e\n]*$/.test(verbose) &&
        !setsRustcVariables(env) &&
        libs.some((l) => path.basename(l).startsWith("librustc_driver"));
      countComputed();
      return ok({ verbose, host, sysroot, libs, own: isSysrootOwn(compilerPath, sysroot), replayable, libHashes: null, startedNs });
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
