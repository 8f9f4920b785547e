// Facts about link tools learnt by asking them once per binary: which linker a driver runs
// (and the helper files it loads), where it searches for libraries, whether a linker writes
// dependency files, whether an archiver is deterministic by default.
import * as fs from "node:fs";
import * as path from "node:path";
import { deterministicByDefault } from "../../compilers/link/archiver.ts";
import { parseLdSearchDirs, parsePrintSearchDirs } from "../../compilers/link/search.ts";
import { runCapture } from "../../platform/exec.ts";
import { hasRelativeEntry } from "../../platform/paths.ts";
import { resolveCompiler } from "../compiler-identity.ts";
import { ProbeMemo } from "../probe-memo.ts";

const memo = new ProbeMemo<unknown>(256);

/** One probe per key at a time and once per daemon; a failed probe is asked again next time. */
function once<T>(key: string, probe: () => Promise<T>): Promise<T> {
  return memo.get(key, probe) as Promise<T>;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return isFile(p);
  } catch {
    return false;
  }
}

async function ask(argv: readonly string[], env: Record<string, string>, cwd = "/"): Promise<string | null> {
  try {
    const r = await runCapture(argv, { cwd, env });
    return r.exitCode === 0 ? r.stdout.toString("utf8") : null;
  } catch {
    return null;
  }
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() === true;
}

export interface LinkerFacts {
  /** Understands --dependency-file (GNU ld ≥ 2.35, gold, lld for ELF). */
  readonly writesDepfile: boolean;
  /** Directories from the built-in linker script (GNU ld), searched after -L; `=` is the sysroot. */
  readonly searchDirs: readonly string[];
}

export function linkerFacts(linker: string, linkerHash: string, env: Record<string, string>): Promise<LinkerFacts> {
  return once(`linker\u0000${linker}\u0000${linkerHash}`, async () => {
    const [help, verbose] = await Promise.all([ask([linker, "--help"], env), ask([linker, "--verbose"], env)]);
    return {
      writesDepfile: help?.includes("--dependency-file") === true,
      searchDirs: verbose === null ? [] : parseLdSearchDirs(verbose),
    };
  });
}

export interface DriverFacts {
  /** The linker program the driver runs, or null when it cannot be found. */
  readonly linker: string | null;
  /** Other programs and plugins the link loads (collect2, the LTO plugin): a change must miss. */
  readonly helpers: readonly string[];
  /** The driver's library directories (`-print-search-dirs`), passed to the linker as -L. */
  readonly libraryDirs: readonly string[];
  /**
   * Which of the places the driver may find its programs in hold one (COMPILER_PATH, its
   * program directories, PATH; each program also with the machine's prefix): another
   * program appearing or going away there may change its answers.
   */
  readonly programsSeen: string;
}

/** Driver arguments that change which toolchain files a link uses. */
export function targetArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (/^(-m(32|64|x32|16)$|--target=|--sysroot=|--gcc-toolchain=|-fuse-ld=|-rtlib=|-stdlib=)/.test(a)) out.push(a);
    else if ((a === "-target" || a === "--sysroot") && args[i + 1] !== undefined) out.push(a, args[++i] as string);
  }
  return out;
}

/**
 * Variables that move where a driver finds its programs (COMPILER_PATH, GCC_EXEC_PREFIX)
 * and the library directories it passes to the linker (LIBRARY_PATH, and LPATH for a native
 * gcc, each also with `<machine>/` and `../lib` below).
 */
const DRIVER_SEARCH_VARS = ["GCC_EXEC_PREFIX", "COMPILER_PATH", "LIBRARY_PATH", "LPATH"] as const;

export async function driverFacts(
  driver: string,
  driverHash: string,
  family: "gcc" | "clang",
  fuseLd: string | null,
  target: readonly string[],
  env: Record<string, string>,
  /** Our own executable in symlink mode: never the linker. */
  selfExe: string | null,
  cwd: string,
): Promise<DriverFacts> {
  const pathVar = env.PATH ?? "";
  const vars = DRIVER_SEARCH_VARS.map((v) => env[v] ?? null);
  // A relative entry (an empty one is ".") is the cwd's: asked there, and kept for it.
  const relative = hasRelativeEntry([...vars, pathVar]);
  const at = relative ? cwd : "/";
  const memoKey = JSON.stringify(["driver", driver, driverHash, target, fuseLd, pathVar, selfExe, vars, at]);
  const linkerName = fuseLd === null ? "ld" : `ld.${fuseLd}`;
  const names = [linkerName, ...(family === "gcc" ? ["collect2", "lto-wrapper", "lto1"] : [])];
  const candidateDirs = (programDirs: readonly string[]): string[] =>
    [...(env.COMPILER_PATH ?? "").split(":"), ...programDirs, ...pathVar.split(":")].filter((d) => d !== "").map((d) => path.resolve(at, d));
  const seen = (dirs: readonly string[], machine: string): string => {
    const found: string[] = [];
    for (const d of dirs) for (const n of names) for (const f of [n, `${machine}-${n}`]) if (isExecutable(path.join(d, f))) found.push(path.join(d, f));
    return found.join("\u0000");
  };
  const probe = (): Promise<DriverFacts & { programDirs: string[]; machine: string }> => once(memoKey, async () => {
    // Where it looks first: what is there before it is asked is what its answers hold for.
    const dirs = await ask([driver, ...target, "-print-search-dirs"], env, at);
    const machine = (await ask([driver, ...target, "-dumpmachine"], env, at))?.trim() ?? "";
    const programDirs = dirs === null ? [] : parseProgramDirs(dirs, at);
    const programsSeen = seen(candidateDirs(programDirs), machine);
    const program = async (name: string): Promise<string | null> => {
      const out = (await ask([driver, ...target, `-print-prog-name=${name}`], env, at))?.trim() ?? "";
      if (out.startsWith("/")) return isFile(out) ? out : null;
      return out === "" ? null : resolveCompiler(out, at, pathVar, selfExe);
    };
    let linker: string | null;
    if (fuseLd !== null && fuseLd.includes("/")) linker = isFile(fuseLd) ? fuseLd : null;
    else linker = await program(fuseLd === null ? "ld" : `ld.${fuseLd}`);
    const helpers: string[] = [];
    if (family === "gcc") {
      for (const name of ["collect2", "lto-wrapper", "lto1"]) {
        const p = await program(name);
        if (p !== null) helpers.push(p);
      }
      // gcc hands its LTO plugin to every link, which the linker loads.
      const plugin = (await ask([driver, ...target, "-print-file-name=liblto_plugin.so"], env, at))?.trim() ?? "";
      if (plugin.startsWith("/") && isFile(plugin)) helpers.push(plugin);
    }
    return {
      linker: linker === null ? null : path.resolve(at, linker),
      helpers,
      libraryDirs: dirs === null ? [] : parsePrintSearchDirs(dirs, at),
      programDirs,
      machine,
      programsSeen,
    };
  });
  // The answers hold while the same programs are where the driver looks; else asked again.
  const known = await probe();
  if (seen(candidateDirs(known.programDirs), known.machine) === known.programsSeen) return known;
  memo.forget(memoKey);
  return probe();
}

/** The `programs: =a:b:c` line of `-print-search-dirs`: where the driver looks for its programs. */
function parseProgramDirs(text: string, cwd: string): string[] {
  const line = text.split("\n").find((l) => l.startsWith("programs: "));
  return line === undefined ? [] : [...new Set(line.slice("programs: ".length).replace(/^=/, "").split(":").filter((d) => d !== "").map((d) => path.resolve(cwd, d)))];
}

/** Whether `ar` without D or U writes zero timestamps and ids (Debian's binutils and llvm-ar do). */
export function archiverDeterministicByDefault(ar: string, arHash: string, env: Record<string, string>): Promise<boolean> {
  return once(`ar\u0000${ar}\u0000${arHash}`, async () => {
    const help = await ask([ar, "--help"], env);
    return help !== null && deterministicByDefault(help);
  });
}
