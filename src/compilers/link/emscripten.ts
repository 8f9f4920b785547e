// Emscripten's drivers (emcc, em++) are Python scripts behind a shell wrapper, so the file a
// build names says little about what it runs. Their identity also covers `emcc --version`,
// the config file, the Python and JS files that shape the output, and the LLVM, binaryen and
// node programs the config names; it is recomputed when any of those files changes.
import * as fs from "node:fs";
import * as path from "node:path";
import { withReentryMarker } from "../../platform/compiler-path.ts";
import { withoutDaemonOnly } from "../../platform/daemon-env.ts";
import { type StatSnapshot, snapshotOf } from "../../platform/fsx.ts";
import { sha256Hex } from "../../platform/hash.ts";
import { stillTrusted } from "../../platform/stat-trust.ts";
import { cfgNamesIn, configTextAcceptable } from "../cc/driver-config.ts";

/** `emcc --version` takes ~0.2 s; it runs synchronously, once per installation change. */
const VERSION_TIMEOUT_MS = 10_000;

const EMSCRIPTEN_DRIVER = /^(?:emcc|em\+\+)(?:\.py)?$/;

export function isEmscriptenDriver(name: string): boolean {
  return EMSCRIPTEN_DRIVER.test(name);
}

/** Files under the emscripten root whose content shapes what emcc produces. */
const ROOT_FILES = [
  ".emscripten",
  "emscripten-version.txt",
  "emcc.py",
  "em++.py",
  "emscripten.py",
  "tools/shared.py",
  "tools/building.py",
  "tools/system_libs.py",
  "tools/settings.py",
  "tools/config.py",
  "src/settings.js",
  "src/compiler.js",
];

/** `KEY = 'value'` lines of emscripten's Python config file. */
export function parseEmscriptenConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z_]+)\s*=\s*(['"])([^'"]*)\2/gm)) out[m[1] as string] = m[3] as string;
  return out;
}

/** The clang emcc runs under these settings (LLVM_ROOT's, with CLANG_ADD_VERSION), or null. */
export function emscriptenClang(config: Record<string, string>): string | null {
  if (config.LLVM_ROOT === undefined) return null;
  return path.join(config.LLVM_ROOT, `clang${config.CLANG_ADD_VERSION ? `-${config.CLANG_ADD_VERSION}` : ""}`);
}

/** Programs the config names (which emcc runs), by path. */
export function emscriptenPrograms(config: Record<string, string>): string[] {
  const llvm = config.LLVM_ROOT;
  const binaryen = config.BINARYEN_ROOT;
  const clangSuffix = config.CLANG_ADD_VERSION ? `-${config.CLANG_ADD_VERSION}` : "";
  const llvmSuffix = config.LLVM_ADD_VERSION ? `-${config.LLVM_ADD_VERSION}` : "";
  const out: string[] = [];
  if (llvm !== undefined) {
    out.push(path.join(llvm, `clang${clangSuffix}`), path.join(llvm, `clang++${clangSuffix}`));
    for (const p of ["wasm-ld", "llvm-ar", "llvm-objcopy", "llvm-nm"]) out.push(path.join(llvm, `${p}${llvmSuffix}`));
  }
  if (binaryen !== undefined) {
    for (const p of ["wasm-opt", "wasm-emscripten-finalize", "wasm-metadce"]) out.push(path.join(binaryen, "bin", p));
  }
  if (config.NODE_JS !== undefined) out.push(config.NODE_JS);
  return out;
}

interface Watched {
  readonly path: string;
  readonly snapshot: StatSnapshot | null;
  /** A directory (whose names are watched), not a file. */
  readonly dir?: true;
  /** The path as spelled (emcc, a config's LLVM_ROOT/clang): it must still resolve to `path`. */
  readonly via?: string;
}

interface Memo {
  readonly watched: readonly Watched[];
  readonly computedAtNs: bigint;
  readonly fingerprint: string;
}

function memoToJson(m: Memo): string {
  return JSON.stringify({
    watched: m.watched.map((w) => [
      w.path,
      w.snapshot === null ? null : [String(w.snapshot.size), String(w.snapshot.mtimeNs), String(w.snapshot.ctimeNs), String(w.snapshot.ino)],
      w.via ?? null,
      w.dir === true ? 1 : 0,
    ]),
    at: String(m.computedAtNs),
    fingerprint: m.fingerprint,
  });
}

function memoFromJson(text: string): Memo | null {
  try {
    const v = JSON.parse(text) as { watched?: unknown; at?: unknown; fingerprint?: unknown };
    if (!Array.isArray(v.watched) || typeof v.at !== "string" || !/^\d+$/.test(v.at) || typeof v.fingerprint !== "string") return null;
    const watched: Watched[] = [];
    for (const w of v.watched as unknown[]) {
      if (!Array.isArray(w) || typeof w[0] !== "string" || (w[2] !== null && w[2] !== undefined && typeof w[2] !== "string")) return null;
      const via = { ...(typeof w[2] === "string" ? { via: w[2] } : {}), ...(w[3] === 1 ? { dir: true as const } : {}) };
      const s = w[1] as unknown;
      if (s === null) {
        watched.push({ path: w[0], snapshot: null, ...via });
        continue;
      }
      if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => typeof x === "string" && /^\d+$/.test(x))) return null;
      const [size, mtimeNs, ctimeNs, ino] = (s as string[]).map((x) => BigInt(x)) as [bigint, bigint, bigint, bigint];
      watched.push({ path: w[0], snapshot: { size, mtimeNs, ctimeNs, ino }, ...via });
    }
    return { watched, computedAtNs: BigInt(v.at), fingerprint: v.fingerprint };
  } catch {
    return null;
  }
}

function statOf(p: string, dir = false): StatSnapshot | null {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  return (dir ? st?.isDirectory() : st?.isFile()) ? snapshotOf(st as fs.BigIntStats) : null;
}

function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Where fingerprints are kept across restarts, and who counts the ones computed. */
export interface FingerprintKeep {
  get(name: string): string | null;
  set(name: string, value: string): void;
  computed(): void;
}

export class EmscriptenFingerprints {
  private readonly memo = new Map<string, Memo>();

  /**
   * A fingerprint of the emscripten installation behind `compilerPath` (whose real file is
   * `realPath`), or null when emcc cannot even report its version.
   */
  fingerprint(compilerPath: string, realPath: string): string | null {
    const known = this.memo.get(compilerPath) ?? this.kept(compilerPath);
    if (known !== undefined && this.stillValid(known)) {
      this.memo.set(compilerPath, known);
      return known.fingerprint;
    }
    const computed = this.compute(compilerPath, realPath);
    if (computed === null) this.memo.delete(compilerPath);
    else {
      this.memo.set(compilerPath, computed);
      this.keep?.computed();
      this.keep?.set(`emscripten2:${compilerPath}`, memoToJson(computed));
    }
    return computed?.fingerprint ?? null;
  }

  /**
   * Where fingerprints outlive the daemon (cache/fingerprint-memo.ts): a kept memo is
   * re-validated by the stat of every file it watched, as an in-memory one is.
   */
  constructor(private readonly keep: FingerprintKeep | null = null) {}

  private kept(compilerPath: string): Memo | undefined {
    const text = this.keep?.get(`emscripten2:${compilerPath}`) ?? null;
    return text === null ? undefined : (memoFromJson(text) ?? undefined);
  }

  private stillValid(m: Memo): boolean {
    for (const w of m.watched) {
      // A link repointed (update-alternatives, another LLVM) leaves the old target unchanged.
      if (w.via !== undefined && realOr(w.via) !== w.path) return false;
      const st = fs.statSync(w.path, { bigint: true, throwIfNoEntry: false });
      if (st === undefined || !(w.dir === true ? st.isDirectory() : st.isFile())) {
        if (w.snapshot !== null) return false;
        continue;
      }
      if (w.snapshot === null || !stillTrusted(w.snapshot, m.computedAtNs, st)) return false;
    }
    return true;
  }

  private compute(compilerPath: string, realPath: string): Memo | null {
    const computedAtNs = BigInt(Date.now()) * 1_000_000n;
    const root = path.dirname(realPath);
    const lines: string[] = [];
    const watched: Watched[] = [{ path: realPath, snapshot: statOf(realPath), via: compilerPath }];
    let config: Record<string, string> = {};
    for (const rel of ROOT_FILES) {
      const p = path.join(root, rel);
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(p);
      } catch {
        watched.push({ path: p, snapshot: null });
        lines.push(`${rel}\u0000absent`);
        continue;
      }
      watched.push({ path: p, snapshot: statOf(p) });
      lines.push(`${rel}\u0000${sha256Hex(bytes)}`);
      if (rel === ".emscripten") config = parseEmscriptenConfig(bytes.toString("utf8"));
    }
    // Big binaries: their path, size and times identify them well enough (a package upgrade changes all three).
    for (const prog of emscriptenPrograms(config)) {
      const real = realOr(prog);
      const snap = statOf(real);
      watched.push({ path: real, snapshot: snap, via: prog });
      lines.push(snap === null ? `${prog}\u0000absent` : `${prog}\u0000${real}\u0000${snap.size}\u0000${snap.mtimeNs}`);
    }
    // clang reads configuration files from its own directory (clang 16 and later by default):
    // every `*.cfg` there is part of the installation, and one saying what the key cannot
    // hold (compilers/cc/driver-config.ts) leaves emcc without a fingerprint (uncached).
    const clang = emscriptenClang(config);
    if (clang !== null) {
      const clangDir = path.dirname(realOr(clang));
      const snap = statOf(clangDir, true);
      watched.push({ path: clangDir, snapshot: snap, dir: true });
      if (snap !== null) {
        const names = cfgNamesIn(clangDir);
        if (names === null) return null;
        for (const name of names) {
          const p = path.join(clangDir, name);
          let bytes: Buffer;
          try {
            bytes = fs.readFileSync(p);
          } catch {
            return null;
          }
          if (!configTextAcceptable(bytes.toString("latin1"))) return null;
          watched.push({ path: p, snapshot: statOf(p) });
          lines.push(`cfg\u0000${p}\u0000${sha256Hex(bytes)}`);
        }
      }
    }
    let version: string;
    try {
      const r = Bun.spawnSync([compilerPath, "--version"], {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: VERSION_TIMEOUT_MS,
        env: withReentryMarker(withoutDaemonOnly(process.env)),
      });
      if (r.exitCode !== 0) return null;
      version = Buffer.from(r.stdout ?? new Uint8Array()).toString("utf8");
    } catch {
      return null;
    }
    lines.push(`version\u0000${version}`);
    return { watched, computedAtNs, fingerprint: sha256Hex(lines.join("\u0001")) };
  }
}
