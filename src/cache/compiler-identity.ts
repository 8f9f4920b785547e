// Finds the real compiler an invocation names and fingerprints it by content, memoised by
// path and stat so a replaced binary at the same path is noticed.
import * as fs from "node:fs";
import * as path from "node:path";
import { findCompiler, isWrapper, skipRuleFor } from "../platform/compiler-path.ts";
import { type ContentHash, sha256Hex } from "../platform/hash.ts";
import { realPathOrNull, type StatSnapshot, snapshotOf } from "../platform/fsx.ts";
import { stillTrusted } from "../platform/stat-trust.ts";
import { EmscriptenFingerprints, isEmscriptenDriver } from "../compilers/link/emscripten.ts";
import { countComputed, FileFingerprints, remember, remembered } from "./fingerprint-memo.ts";

export interface CompilerIdentity {
  /** Absolute path of the executable we will run. */
  readonly path: string;
  /** Content hash of the file the path resolves to. */
  readonly hash: ContentHash;
  /** Basename of the real file, after symlinks: "gcc-12", "clang-14", … */
  readonly realName: string;
  /**
   * What the driver reads besides its arguments, as found before a compile (clang's
   * configuration files and their directories, where gcc would find a specs file): a miss
   * is not stored when one of them changed while it ran (cc-miss.ts).
   */
  readonly driverInputs?: DriverInputs;
}

export interface DriverInputs {
  /** Files read: they must not change. */
  readonly files: readonly string[];
  /** Directories listed: no name may come or go. */
  readonly dirs: readonly string[];
  /** Paths that were absent: they must stay so. */
  readonly absent: readonly string[];
}

/** Our own executables as the daemon sees them: itself, and the native launcher beside it. */
export function ownExecutables(skip: string | null): string[] {
  const exes = [process.execPath, path.join(path.dirname(process.execPath), "zccache")];
  if (skip !== null) exes.unshift(skip);
  return exes;
}

/**
 * Resolves a compiler name the way execvp would, always passing over zccache in any form
 * (`skip`: the client's own executable in symlink mode) and ccache/sccache masquerade links:
 * the program we fingerprint must be the one that compiles, or a changed compiler behind a
 * wrapper would go unnoticed. An explicit path to such a wrapper resolves to nothing (the
 * client then runs it as given, uncached).
 */
export function resolveCompiler(name: string, cwd: string, pathVar: string, skip: string | null): string | null {
  const rule = skipRuleFor(ownExecutables(skip), {});
  const found = findCompiler(name, cwd, pathVar, rule);
  if (found !== null && name.includes("/") && isWrapper(found, rule)) return null;
  return found;
}

export class CompilerIdentities {
  private readonly memo = new Map<string, { snapshot: StatSnapshot; hashedAtNs: bigint; identity: CompilerIdentity }>();
  private readonly emscripten = new EmscriptenFingerprints({ get: remembered, set: remember, computed: countComputed });
  private readonly files = new FileFingerprints("binary");

  identify(compilerPath: string): CompilerIdentity | null {
    const file = this.identifyFile(compilerPath);
    if (file === null || !isEmscriptenDriver(path.basename(compilerPath))) return file;
    // emcc/em++ are scripts behind a wrapper: their identity includes the installation they drive.
    const extra = this.emscripten.fingerprint(compilerPath, realPathOrNull(compilerPath) ?? compilerPath);
    if (extra === null) return null;
    return { ...file, hash: sha256Hex(`${file.hash}\u0000${extra}`) };
  }

  private identifyFile(compilerPath: string): CompilerIdentity | null {
    const real = realPathOrNull(compilerPath);
    if (real === null) return null;
    const st = fs.statSync(real, { bigint: true, throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    const snap = snapshotOf(st);
    const known = this.memo.get(compilerPath);
    if (known && known.identity.realName === path.basename(real) && stillTrusted(known.snapshot, known.hashedAtNs, snap)) {
      return known.identity;
    }
    const hashedAtNs = BigInt(Date.now()) * 1_000_000n;
    const identity: CompilerIdentity = {
      path: compilerPath,
      // By content, through the fingerprints a restarted daemon keeps (re-validated by stat).
      hash: this.files.hash(real, st, () => sha256Hex(fs.readFileSync(real))) as ContentHash,
      realName: path.basename(real),
    };
    this.memo.set(compilerPath, { snapshot: snap, hashedAtNs, identity });
    return identity;
  }
}
