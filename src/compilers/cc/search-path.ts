// The ordered include search list of a compile, used to name the paths where a new header
// would shadow one that was read. System directories come from the compiler itself (-v).
import * as path from "node:path";
import { withReentryMarker } from "../../platform/compiler-path.ts";
import { dirOf, hasRelativeEntry, joinPhysical } from "../../platform/paths.ts";
import type { CcInvocation, Language } from "./args.ts";
import { CC_KEY_ENV_VARS, INCLUDE_PATH_VARS } from "./plan.ts";

/** Flags that change which system directories the compiler searches. */
export function systemAffecting(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--sysroot" || a === "-isysroot" || a === "-target" || a === "--target" || a === "--gcc-toolchain") {
      out.push(a, args[i + 1] ?? "");
      i++;
    } else if (SEPARATE_VALUE.has(a)) {
      // An option for another tool and its value (`-mllvm -x`, `-Xclang -mfoo`): not the
      // driver's -m options.
      i++;
    } else if (
      a.startsWith("-nostdinc") ||
      a.startsWith("--sysroot=") ||
      a.startsWith("--target=") ||
      a.startsWith("--gcc-toolchain=") ||
      a.startsWith("-stdlib=") ||
      a.startsWith("-m") ||
      a.startsWith("-std=")
    ) {
      out.push(a);
    }
  }
  return out;
}

/** Options whose value is the next argument and is meant for another program. */
const SEPARATE_VALUE: ReadonlySet<string> = new Set(["-mllvm", "-Xclang", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xanalyzer"]);

const LANGUAGE_FLAG: Readonly<Record<Language, string>> = {
  c: "c",
  "c++": "c++",
  "objective-c": "objective-c",
  "objective-c++": "objective-c++",
  "c-cpp-output": "c",
  "c++-cpp-output": "c++",
  "assembler-with-cpp": "assembler-with-cpp",
};

export function parseVerboseSearchList(stderr: string): string[] {
  const lines = stderr.split("\n");
  const dirs: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith("#include <...> search starts here:") || line.startsWith('#include "..." search starts here:')) {
      inside = true;
      continue;
    }
    if (line.startsWith("End of search list.")) break;
    if (inside && line.startsWith(" ")) dirs.push(line.trim().replace(/ \(framework directory\)$/, ""));
  }
  return dirs;
}

/**
 * The directories `-v` reports it skipped because they do not exist (gcc and clang: `ignoring
 * nonexistent directory "…"`). One created later is searched from then on.
 */
export function parseIgnoredDirs(stderr: string): string[] {
  const out: string[] = [];
  for (const m of stderr.matchAll(/^ignoring nonexistent directory "(.*)"$/gm)) out.push(m[1] as string);
  return out;
}

export class SystemDirs {
  private readonly memo = new Map<string, Promise<string[]>>();

  /**
   * System include directories for this compiler, language and system-affecting flags, asked
   * in `cwd`: a relative sysroot or toolchain is the cwd's. The variables the key reads (a
   * driver's prefix, emcc's cache) take part too.
   */
  get(compilerPath: string, compilerHash: string, lang: Language, args: readonly string[], env: Record<string, string>, cwd: string): Promise<string[]> {
    const flags = systemAffecting(args);
    const vars = SYSTEM_DIR_VARS.filter((v) => env[v] !== undefined).map((v) => `${v}=${env[v]}`);
    // Where relative directories can come in: a flag, a variable adding flags, a relative prefix.
    const here =
      relativePathValue(flags) ||
      FLAG_VARS.some((v) => env[v] !== undefined) ||
      hasRelativeEntry(SYSTEM_DIR_VARS.map((v) => env[v]));
    const key = JSON.stringify([compilerHash, compilerPath, lang, flags, here ? cwd : null, vars]);
    let p = this.memo.get(key);
    if (p === undefined) {
      p = this.query(compilerPath, lang, flags, env, cwd);
      this.memo.set(key, p);
      p.catch(() => this.memo.delete(key));
    }
    return p;
  }

  private async query(compilerPath: string, lang: Language, flags: string[], env: Record<string, string>, cwd: string): Promise<string[]> {
    const cleanEnv = { ...env };
    for (const k of INCLUDE_PATH_VARS) delete cleanEnv[k];
    const proc = Bun.spawn([compilerPath, "-x", LANGUAGE_FLAG[lang], ...flags, "-E", "-v", "/dev/null"], {
      cwd,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      env: withReentryMarker({ ...cleanEnv, LC_ALL: "C" }),
    });
    const [text, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`${compilerPath} -v failed`);
    // A skipped directory is searched once it exists, at a place -v does not say: taken as
    // searched before every other system directory, so a header appearing there shadows any.
    const listed = parseVerboseSearchList(text).map((d) => path.resolve(cwd, d));
    const skipped = parseIgnoredDirs(text).map((d) => path.resolve(cwd, d)).filter((d) => !listed.includes(d));
    return [...new Set(skipped), ...listed];
  }
}

/** Variables that add flags to every compile (clang's, emcc's). */
const FLAG_VARS: readonly string[] = ["CCC_OVERRIDE_OPTIONS", "EMCC_CFLAGS", "EMMAKEN_CFLAGS"];

/** Variables of the key that can move the system directories. */
const SYSTEM_DIR_VARS: readonly string[] = [
  ...FLAG_VARS,
  ...CC_KEY_ENV_VARS.filter((v) => /^(GCC_EXEC_PREFIX|COMPILER_PATH|SDKROOT|CLANG_NO_DEFAULT_CONFIG|EM_|EMSDK_)/.test(v)),
];

/** Whether a sysroot or toolchain among `flags` is named by a relative path. */
function relativePathValue(flags: readonly string[]): boolean {
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i] as string;
    const separate = f === "--sysroot" || f === "-isysroot" || f === "--gcc-toolchain";
    const value = separate ? (flags[++i] ?? "") : /^--(?:sysroot|gcc-toolchain)=(.*)$/.exec(f)?.[1];
    if (value !== undefined && value !== "" && !value.startsWith("/")) return true;
  }
  return false;
}

function envDirs(value: string | undefined, cwd: string): string[] {
  if (!value) return [];
  return value.split(":").map((d) => joinPhysical(cwd, d === "" ? "." : d));
}

/** The full search order: source dir, -iquote, -I, CPATH, -isystem, *_INCLUDE_PATH, system, -idirafter. */
export function searchOrder(
  inv: CcInvocation,
  sourcePath: string,
  lang: Language,
  systemDirs: readonly string[],
  cwd: string,
  env: Record<string, string>,
): string[] {
  // Spelled as the compiler joins them: a ".." after a symlinked directory stays.
  const abs = (d: string): string => joinPhysical(cwd, d);
  // One list per language; for Objective-C++ gcc reads its own, clang the C++ one then its own.
  const langDirs =
    lang === "objective-c"
      ? envDirs(env.OBJC_INCLUDE_PATH, cwd)
      : lang === "objective-c++"
        ? [...envDirs(env.CPLUS_INCLUDE_PATH, cwd), ...envDirs(env.OBJCPLUS_INCLUDE_PATH, cwd)]
        : envDirs(lang === "c++" || lang === "c++-cpp-output" ? env.CPLUS_INCLUDE_PATH : env.C_INCLUDE_PATH, cwd);
  const d = inv.includeDirs;
  const p = inv.passThroughDirs;
  // A pass-through directory may come first or last in its chain: listed at both ends, a
  // header found in it or before it is probed for in every directory that may precede it.
  const chain = (driver: readonly string[], pass: readonly string[]): string[] =>
    pass.length === 0 ? driver.map(abs) : [...pass.map(abs), ...driver.map(abs), ...pass.map(abs)];
  const ordered = [
    dirOf(joinPhysical(cwd, sourcePath)),
    ...chain(d.quote, p.quote),
    ...chain(d.bracket, p.bracket),
    ...envDirs(env.CPATH, cwd),
    ...chain(d.system, p.system),
    ...langDirs,
    ...systemDirs,
    ...chain(d.after, p.after),
  ];
  const repeatable = new Set([p.quote, p.bracket, p.system, p.after].flat().map(abs));
  const seen = new Set<string>();
  return ordered.filter((dir) => {
    if (seen.has(dir) && !repeatable.has(dir)) return false;
    seen.add(dir);
    return true;
  });
}

/**
 * Paths where a new file would be read instead of a header we recorded. For every search
 * directory the header lies under (we cannot tell which one supplied it, so take them
 * all), the same relative name in each directory searched before it and in each
 * includer's own directory (a quote include searches it first). When the includers are
 * unknown, every directory holding the source or a non-system header stands in for them.
 */
export function shadowProbes(
  headers: ReadonlyMap<string, ReadonlySet<string> | null>,
  order: readonly string[],
  systemDirs: readonly string[],
): string[] {
  const under = (p: string, dir: string): boolean => p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
  const lexicalOrder = order.map((d) => path.resolve(d));
  const lexicalSystem = systemDirs.map((d) => path.resolve(d));
  let userDirs: Set<string> | null = null;
  const fallbackIncluderDirs = (): Set<string> => {
    if (userDirs === null) {
      userDirs = new Set([order[0] as string]);
      for (const h of headers.keys()) if (!lexicalSystem.some((d) => under(path.resolve(h), d))) userDirs.add(dirOf(h));
    }
    return userDirs;
  };
  const probes = new Set<string>();
  for (const [h, includers] of headers) {
    const includerDirs = includers === null ? fallbackIncluderDirs() : new Set([...includers].map((i) => dirOf(i)));
    // Two spellings of "the directory it was found in": the compiler's own (which keeps
    // "d/../x.h" when d is a symlink, so its probes must keep it too) and the lexical one.
    const spellings: [string, readonly string[], (a: string, b: string) => string][] = [
      [h, order, (d, rel) => `${d}/${rel}`],
      [path.resolve(h), lexicalOrder, (d, rel) => path.join(d, rel)],
    ];
    for (const [name, dirs, join] of spellings) {
      for (let k = 0; k < dirs.length; k++) {
        const base = dirs[k] as string;
        if (!under(name, base)) continue;
        const rel = name.slice(base.endsWith("/") ? base.length : base.length + 1);
        for (let j = 0; j < k; j++) probes.add(join(dirs[j] as string, rel));
        for (const d of includerDirs) probes.add(join(d, rel));
      }
    }
  }
  for (const h of headers.keys()) {
    probes.delete(h);
    probes.delete(path.resolve(h));
  }
  return [...probes];
}
