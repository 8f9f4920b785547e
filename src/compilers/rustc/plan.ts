// What goes into a rustc cache key, with output locations left out: the target dir and
// the working directory are replaced by placeholders in every path the key hashes.
import * as path from "node:path";
import type { KeyField } from "../../cache/key.ts";
import { APPLE_TARGET_ENV_VARS } from "../cc/plan.ts";
import type { RustInvocation } from "./args.ts";

/** Cargo-set variables that say where or how fast to build, not what: not in the key. */
const CARGO_ENV_IGNORED = [
  /^CARGO_MAKEFLAGS$/,
  /^CARGO_HOME$/,
  /^CARGO_TARGET_DIR$/,
  /^CARGO_BUILD_(JOBS|TARGET_DIR|DEP_INFO_BASEDIR)$/,
  /^CARGO_INCREMENTAL$/,
  /^CARGO_TERM_/,
  /^CARGO_LOG/,
  /^CARGO_HTTP_/,
  /^CARGO_NET_/,
  /^CARGO_REGISTRY_/,
  /^CARGO_REGISTRIES_/,
  /^CARGO_CACHE_/,
  /^CARGO_ALIAS_/,
  // Which packages were named on the command line: read by clippy-driver (it lints only
  // those), not by rustc. In the key for clippy only.
  /^CARGO_PRIMARY_PACKAGE$/,
];

/** Variables rustc itself reads that change what it produces. */
const RUSTC_KEY_ENV = [
  "RUSTC_BOOTSTRAP",
  "RUST_TARGET_PATH",
  "RUSTC_FORCE_RUSTC_VERSION",
  // The version rustc reports, and the one `#[cfg(version(..))]` compares with.
  "RUSTC_OVERRIDE_VERSION_STRING",
  "RUSTC_LOG",
  "RUSTC_LOG_COLOR",
  // Apple targets: the OS version built for, and the SDK linked against.
  ...APPLE_TARGET_ENV_VARS,
  "SDKROOT",
  // The producer string LLVM records in bitcode (-C linker-plugin-lto, -C embed-bitcode).
  "LLVM_OVERRIDE_PRODUCER",
];
/** Read by clippy-driver. */
export const CLIPPY_KEY_ENV = ["CLIPPY_ARGS", "CLIPPY_CONF_DIR", "CLIPPY_DISABLE_DOCS_LINKS", "CARGO_PRIMARY_PACKAGE"];
/** Read by the system linker driver (cc) when rustc links a bin or proc-macro. */
export const LINKER_KEY_ENV = ["LIBRARY_PATH", "LPATH", "LD_RUN_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH"];
/** Read when a human-format run decides on colour. */
const COLOR_KEY_ENV = ["CLICOLOR", "CLICOLOR_FORCE", "NO_COLOR", "TERM"];
/** Never passed to a rustc the daemon runs: they name the client's jobserver fds. */
const RUN_ENV_REMOVED = ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"];

/** The environment a rustc the daemon runs gets: the client's, without its jobserver. */
export function rustcRunEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const runEnv: Record<string, string> = { ...env };
  for (const v of RUN_ENV_REMOVED) delete runEnv[v];
  return runEnv;
}

export function cargoKeyEnv(name: string): boolean {
  return name.startsWith("CARGO_") && !CARGO_ENV_IGNORED.some((re) => re.test(name));
}

/**
 * Where output locations live: cargo's `<target>/<profile>/deps` and
 * `<target>/<profile>/build/<pkg>-<hash>` map to `<target>` (skipping a `<triple>` level).
 */
export function targetDirOf(outDirAbs: string | null, target: string | null): string | null {
  if (outDirAbs === null) return null;
  let profileDir: string;
  if (path.basename(outDirAbs) === "deps") profileDir = path.dirname(outDirAbs);
  else if (path.basename(path.dirname(outDirAbs)) === "build") profileDir = path.dirname(path.dirname(outDirAbs));
  else return outDirAbs;
  let dir = path.dirname(profileDir);
  if (target !== null && path.basename(dir) === target.replace(/\.json$/, "")) dir = path.dirname(dir);
  return dir === "/" ? null : dir;
}

export interface PathNormalizer {
  /** An absolute path inside the target dir or the cwd, written relative to those roots. */
  (p: string): string;
}

function under(p: string, root: string): string | null {
  if (p === root) return "";
  return p.startsWith(root.endsWith("/") ? root : `${root}/`) ? p.slice(root.length) : null;
}

export function pathNormalizer(cwd: string, targetDir: string | null): PathNormalizer {
  return (p: string): string => {
    if (!path.isAbsolute(p)) return p;
    const abs = path.normalize(p);
    if (targetDir !== null) {
      const rel = under(abs, targetDir);
      if (rel !== null) return `<target>${rel}`;
    }
    const rel = under(abs, cwd);
    return rel === null ? p : `<cwd>${rel}`;
  };
}

/**
 * When `--remap-path-prefix` hides the working directory from everything rustc writes (a
 * FROM that is the cwd or one of its ancestors), the cwd as rustc records it: TO joined with
 * the cwd's place under FROM. A copy of the tree elsewhere then shares entries. Null when
 * no mapping covers the cwd. As in rustc, the last matching mapping wins.
 */
export function remappedCwd(inv: RustInvocation, cwd: string): string | null {
  for (let i = inv.remaps.length - 1; i >= 0; i--) {
    const r = inv.remaps[i] as { from: string; to: string };
    const rel = under(cwd, path.resolve(cwd, r.from));
    if (rel !== null) return `${r.to}${rel}`;
  }
  return null;
}

function remapValue(value: string, cwd: string, norm: PathNormalizer): string {
  const eq = value.lastIndexOf("=");
  const from = path.resolve(cwd, value.slice(0, eq));
  const rel = under(cwd, from);
  if (rel === null) return `${norm(value.slice(0, eq))}=${value.slice(eq + 1)}`;
  const depth = rel.split("/").filter((s) => s !== "").length;
  return `<cwd>${"/..".repeat(depth)}=${value.slice(eq + 1)}`;
}

export function normalizedArgs(inv: RustInvocation, cwd: string, norm: PathNormalizer): string[] {
  const out: string[] = [];
  for (const a of inv.keyArgs) {
    let v = a.value;
    if (v !== null) {
      if (a.path === "value") v = norm(v);
      else if (a.path === "after-kind") {
        const eq = v.indexOf("=");
        v = eq > 0 && !v.slice(0, eq).includes("/") ? `${v.slice(0, eq)}=${norm(v.slice(eq + 1))}` : norm(v);
      } else if (a.path === "remap") v = remapValue(v, cwd, norm);
    }
    out.push(v === null ? a.name : `${a.name}=${v}`);
  }
  return out;
}

export interface RustKeyInputs {
  readonly toolchain: string;
  /** "rustc", or "clippy-driver:<hash>" when clippy runs the compile. */
  readonly driver: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Content hash of each `--extern` file, parallel to inv.externs (null: no path). */
  readonly externHashes: readonly (string | null)[];
  /** `name=hash` for each native library and link input we found. */
  readonly linkInputs: readonly string[];
  readonly linker: string | null;
  readonly targetSpec: string | null;
  readonly hostCpu: string | null;
  readonly colorMode: "tty" | "pipe" | "n/a";
  readonly clippy: boolean;
}

function envList(env: Readonly<Record<string, string>>, norm: PathNormalizer, names: (n: string) => boolean): string[] {
  return Object.keys(env)
    .filter(names)
    .sort()
    .map((n) => `${n}=${normEnvValue(env[n] as string, norm)}`);
}

/** CARGO_MANIFEST_DIR and friends are paths: normalised like arguments. */
function normEnvValue(v: string, norm: PathNormalizer): string {
  return path.isAbsolute(v) && !v.includes(":") ? norm(v) : v;
}

export function rustKeyFields(inv: RustInvocation, k: RustKeyInputs): KeyField[] {
  const outDirAbs = inv.outDir === null ? k.cwd : path.resolve(k.cwd, inv.outDir);
  const norm = pathNormalizer(k.cwd, targetDirOf(outDirAbs, inv.target));
  const remapped = remappedCwd(inv, k.cwd);
  const extra = new Set<string>([...RUSTC_KEY_ENV, ...(k.clippy ? CLIPPY_KEY_ENV : []), ...(k.linker !== null ? LINKER_KEY_ENV : [])]);
  if (k.colorMode !== "n/a") for (const n of COLOR_KEY_ENV) extra.add(n);
  return [
    { name: "toolchain", value: k.toolchain },
    { name: "driver", value: k.driver },
    { name: "cwd", value: remapped === null ? k.cwd : `<remapped>${remapped}` },
    { name: "args", value: normalizedArgs(inv, k.cwd, norm) },
    {
      name: "externs",
      value: inv.externs.map((e, i) => {
        const base = e.path === null ? "" : path.basename(e.path);
        return `${e.modifiers}:${e.name}=${base}#${k.externHashes[i] ?? "none"}`;
      }),
    },
    { name: "link-inputs", value: k.linkInputs },
    { name: "linker", value: k.linker ?? "" },
    { name: "target-spec", value: k.targetSpec ?? "" },
    { name: "host-cpu", value: k.hostCpu ?? "" },
    { name: "color", value: k.colorMode },
    { name: "cargo-env", value: envList(k.env, norm, cargoKeyEnv) },
    { name: "env", value: envList(k.env, norm, (n) => extra.has(n)) },
  ];
}
