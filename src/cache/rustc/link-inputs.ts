// Inputs of a rustc compile that are not Rust sources: native libraries in `-L native=`
// directories, files named by `-C link-arg`, the system linker and its startup files and
// C libraries (for bins and proc-macros), a target spec file, the host CPU for
// `-C target-cpu=native`. Each is reduced to `name=hash` strings for the key.
import * as fs from "node:fs";
import * as path from "node:path";
import { CC_UNCACHEABLE_ENV_VARS, CLANG_UNCACHEABLE_ENV_VARS } from "../../compilers/cc/plan.ts";
import type { RustInvocation } from "../../compilers/rustc/args.ts";
import { LINKER_KEY_ENV } from "../../compilers/rustc/plan.ts";
import { runCapture } from "../../platform/exec.ts";
import { hasRelativeEntry } from "../../platform/paths.ts";
import { err, ok, type Result } from "../../platform/result.ts";
import { compilerFamily } from "../../compilers/family.ts";
import { resolveCompiler } from "../compiler-identity.ts";
import { driverIdentity } from "../driver-identity.ts";
import { driverFacts } from "../link/toolchain.ts";
import type { PipelineContext } from "../context.ts";

/** A directory with more libraries than this is a system directory: not hashed. */
const MAX_LIBS_PER_DIR = 500;
const LIB_FILE = /^lib.*\.(a|so(\.\d+)*)$/;

/** Startup files and C libraries every Rust bin on a GNU target links. */
const SYSTEM_LINK_FILES = [
  "crt1.o",
  "Scrt1.o",
  "crti.o",
  "crtn.o",
  "crtbeginS.o",
  "crtendS.o",
  "libc.so",
  "libc_nonshared.a",
  "libgcc.a",
  "libgcc_s.so",
  "libm.so",
];

function listLibs(dir: string): string[] | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const libs = names.filter((n) => LIB_FILE.test(n)).sort();
  return libs.length > MAX_LIBS_PER_DIR ? null : libs;
}

/**
 * Every native library in the `-L native=`/`-L all=` directories (a crate can name one with
 * `#[link]` in its source, which the command line does not show), and `-l` names.
 */
export function nativeLibraryInputs(inv: RustInvocation, cwd: string, ctx: PipelineContext): Result<string[], string> {
  const out: string[] = [];
  for (const sp of inv.searchPaths) {
    if (sp.kind !== "native" && sp.kind !== "all") continue;
    const dir = path.resolve(cwd, sp.path);
    const libs = listLibs(dir);
    if (libs === null) {
      out.push(`dir:${sp.path}=system`);
      continue;
    }
    for (const name of libs) {
      const h = ctx.files.hash(path.join(dir, name));
      if (h !== null) out.push(`${sp.kind}:${name}=${h}`);
    }
  }
  for (const l of inv.linkLibs) out.push(`-l:${l.kind}:${l.verbatim ? "v" : ""}:${l.name}`);
  return ok(out);
}

/** `-C link-arg` words (and comma-separated `-Wl,` pieces) that name existing files. */
export function linkArgFileInputs(inv: RustInvocation, cwd: string, ctx: PipelineContext): string[] {
  const out: string[] = [];
  for (const word of inv.linkArgs) {
    for (const piece of word.split(",")) {
      const candidate = piece.replace(/^(-T|--script=|-Wl,)/, "");
      if (candidate === "" || candidate.startsWith("-")) continue;
      const abs = path.resolve(cwd, candidate);
      const h = ctx.files.hash(abs);
      if (h !== null) out.push(`link-arg:${candidate}=${h}`);
    }
  }
  return out;
}

interface LinkerSystem {
  readonly files: readonly string[];
}

const linkerSystems = new Map<string, Promise<LinkerSystem>>();
const LINKER_MEMO_LIMIT = 256;

async function probeLinker(linkerPath: string, env: Record<string, string>, cwd: string): Promise<LinkerSystem> {
  const files: string[] = [];
  const ask = async (arg: string): Promise<string | null> => {
    try {
      const r = await runCapture([linkerPath, arg], { cwd, env });
      const v = r.stdout.toString("utf8").trim();
      if (r.exitCode !== 0 || v === "") return null;
      // It echoes a name it did not find, and names one found through a relative directory
      // relative to the cwd. (Its ld, collect2 and plugin come from driverFacts.)
      return v === arg.slice("-print-file-name=".length) ? null : path.resolve(cwd, v);
    } catch {
      return null;
    }
  };
  const found = await Promise.all(SYSTEM_LINK_FILES.map((f) => ask(`-print-file-name=${f}`)));
  for (const f of found) if (f !== null) files.push(path.normalize(f));
  return { files };
}

/**
 * The program that links a bin or proc-macro (`-C linker`, else `cc`), by content, and the
 * startup files, C libraries and `ld` it uses. Null linker for crate types that do not link.
 */
export async function linkerInputs(
  inv: RustInvocation,
  host: string,
  cwd: string,
  env: Readonly<Record<string, string>>,
  ctx: PipelineContext,
): Promise<Result<{ identity: string; files: string[] }, string>> {
  const target = inv.target ?? host;
  const name = inv.linker ?? (target.includes("-linux") ? "cc" : null);
  // Targets whose default linker ships with the toolchain (rust-lld) are covered by its identity.
  if (name === null) return ok({ identity: "toolchain-default", files: [] });
  // The linker is a compiler driver: what changes its options, makes it print or log its
  // runs, or names specs files for it, changes this link too.
  const driverVar = [...CLANG_UNCACHEABLE_ENV_VARS, ...CC_UNCACHEABLE_ENV_VARS].find((v) => env[v] !== undefined);
  if (driverVar !== undefined) return err(`${driverVar} is set for the linker`);
  const resolved = resolveCompiler(name, cwd, env.PATH ?? "", null);
  if (resolved === null) return err(`linker ${name} not found`);
  const found = ctx.compilers.identify(resolved);
  if (found === null) return err(`linker ${resolved} unreadable`);
  // A gcc or clang reads specs or configuration files for the link as for a compile.
  const family = compilerFamily(path.basename(resolved), found.realName);
  const ident = family === "gcc" || family === "clang" ? await driverIdentity(found, family, env, cwd, ctx.files) : found;
  if (ident === null) return err(`linker ${resolved} reads what the key cannot hold`);
  // The programs a gcc or clang runs for the link, as a C link knows them (asked again when
  // one of those names appears or goes away where the driver looks, link/toolchain.ts), and
  // which of its startup files and libraries are in which of its search directories: one
  // appearing in a directory searched first is the one linked from then on.
  const facts = family === "gcc" || family === "clang" ? await driverFacts(resolved, found.hash, family, null, [], { ...env }, null, cwd) : null;
  const present: string[] = [];
  for (const d of facts?.libraryDirs ?? []) for (const f of SYSTEM_LINK_FILES) if (fs.existsSync(path.join(d, f))) present.push(path.join(d, f));
  // Where the driver finds them depends on these variables (a relative entry on the cwd):
  // asked again for another value, or when the files present changed.
  const vars = [...LINKER_KEY_ENV, "PATH"].map((v) => env[v] ?? null);
  const relative = hasRelativeEntry(vars);
  const memoKey = JSON.stringify([resolved, found.hash, vars, relative ? cwd : null, present]);
  let sys = linkerSystems.get(memoKey);
  if (sys === undefined) {
    sys = probeLinker(resolved, { ...env }, relative ? cwd : "/");
    if (linkerSystems.size >= LINKER_MEMO_LIMIT) linkerSystems.clear();
    linkerSystems.set(memoKey, sys);
  }
  const files: string[] = [];
  for (const f of (await sys).files) files.push(`${f}=${ctx.files.hash(f) ?? "missing"}`);
  for (const f of [facts?.linker ?? null, ...(facts?.helpers ?? [])]) if (f !== null) files.push(`program:${f}=${ctx.files.hash(f) ?? "missing"}`);
  files.push(`present:${present.join(":")}`);
  return ok({ identity: `${name}=${ident.hash}`, files });
}

/** A custom target spec (a .json path, or a name found in RUST_TARGET_PATH), by content. */
export function targetSpecInput(inv: RustInvocation, cwd: string, env: Readonly<Record<string, string>>, ctx: PipelineContext): Result<string | null, string> {
  const t = inv.target;
  if (t === null) return ok(null);
  if (t.endsWith(".json")) {
    const h = ctx.files.hash(path.resolve(cwd, t));
    return h === null ? err(`target spec ${t} unreadable`) : ok(`${path.basename(t)}=${h}`);
  }
  for (const dir of (env.RUST_TARGET_PATH ?? "").split(":")) {
    if (dir === "") continue;
    const h = ctx.files.hash(path.resolve(cwd, dir, `${t}.json`));
    if (h !== null) return ok(`${t}.json=${h}`);
  }
  return ok(null);
}

