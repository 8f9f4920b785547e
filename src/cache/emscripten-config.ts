// What emcc takes from a request's environment about the tools it runs. The installation's
// own `.emscripten` and the programs it names are in the compiler's fingerprint
// (compilers/link/emscripten.ts). The environment can name another configuration file
// (EM_CONFIG; or, when the installation has none, emsdk's or the home directory's), override
// any of its settings (EM_LLVM_ROOT, EM_CLANG_ADD_VERSION, …), add options to every compile
// (EMCC_CFLAGS) or make emcc log, save temporaries or run clang through a wrapper. What it
// changes goes into the identity; what we cannot account for makes the compile too hard.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EMCC_UNCACHEABLE_ENV_VARS, EMSCRIPTEN_CONFIG_KEYS, emccEnvOff } from "../compilers/cc/plan.ts";
import { configOptionsAcceptable, configWords } from "../compilers/cc/driver-config.ts";
import { emscriptenClang, emscriptenPrograms, parseEmscriptenConfig } from "../compilers/link/emscripten.ts";
import { realPathOrNull } from "../platform/fsx.ts";
import { sha256Hex } from "../platform/hash.ts";
import { type CompilerIdentity, resolveCompiler } from "./compiler-identity.ts";
import { hasConfigFiles } from "./driver-config.ts";
import type { FileHashes } from "./file-hashes.ts";

/** The settings emcc reads from `ADD_VERSION` variables when its configuration has none. */
const VERSION_FALLBACKS = ["LLVM_ADD_VERSION", "CLANG_ADD_VERSION"] as const;

/**
 * The configuration file emcc reads, as its tools/config.py finds it: EM_CONFIG (`~` is
 * HOME's, a relative path the cwd's), else the installation's `.emscripten`, emsdk's two
 * levels up, or `~/.emscripten`; null when there is none (emcc then fails).
 */
export function emscriptenConfigPath(root: string, env: Readonly<Record<string, string>>, cwd: string): string | null {
  const home = env.HOME ?? os.homedir();
  const expand = (p: string): string => (p === "~" || p.startsWith("~/") ? path.join(home, p.slice(1)) : p);
  if (env.EM_CONFIG !== undefined) return path.resolve(cwd, expand(env.EM_CONFIG));
  for (const p of [path.join(root, ".emscripten"), path.join(path.dirname(path.dirname(root)), ".emscripten"), path.join(home, ".emscripten")]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Settings that name the programs emcc runs, or their names' suffixes. */
const PROGRAM_SETTINGS = ["LLVM_ROOT", "BINARYEN_ROOT", "NODE_JS", "LLVM_ADD_VERSION", "CLANG_ADD_VERSION", "COMPILER_WRAPPER"] as const;

/** A variable set to the configuration file's directory, as emsdk's generated file does. */
const CONFIG_DIR_VAR =
  /^(\w+)\s*=\s*os\.path\.dirname\(\s*os\.(?:getenv\(\s*(['"])EM_CONFIG\2\s*\)|environ\.get\(\s*(['"])EM_CONFIG\3\s*\)|environ\[\s*(['"])EM_CONFIG\4\s*\])\s*\)(?:\.replace\([^)]*\))?\s*$/gm;

/**
 * The settings of a configuration file (a Python file) as far as they can be read without
 * running it: `KEY = 'literal'`, and for the settings that name programs also emsdk's
 * `KEY = emsdk_path + '/upstream/bin'` (emsdk_path being the file's directory, as emcc sets
 * EM_CONFIG to the file before reading it). Null when such a setting is assigned in any
 * other way (computed, indented under a condition): we cannot tell what it names.
 */
export function emscriptenSettings(text: string, configPath: string | null): { settings: Record<string, string>; computed: boolean } | null {
  const settings = parseEmscriptenConfig(text);
  // Variables a setting may be joined from: the file's directory, or a literal of its own.
  const dirs = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+)\s*=\s*(['"])([^'"]*)\2\s*$/gm)) dirs.set(m[1] as string, m[3] as string);
  if (configPath !== null) for (const m of text.matchAll(CONFIG_DIR_VAR)) dirs.set(m[1] as string, path.dirname(configPath));
  let computed = false;
  for (const key of PROGRAM_SETTINGS) {
    // Changed in place (`+=`) or under a condition (indented): not followed.
    if (new RegExp(`^[ \\t]*${key}\\s*[^=\\s]=`, "m").test(text)) return null;
    const assigned = [...text.matchAll(new RegExp(`^([ \\t]*)${key}\\s*=(.*)$`, "gm"))];
    if (assigned.some((m) => m[1] !== "")) return null;
    const last = assigned.at(-1);
    if (last === undefined) continue;
    const expr = (last[2] as string).replace(/\s#[^'"]*$/, "").trim();
    const literal = /^(['"])([^'"]*)\1$/.exec(expr);
    if (literal !== null) {
      settings[key] = literal[2] as string;
      continue;
    }
    const joined = /^(\w+)\s*\+\s*(['"])([^'"]*)\2$/.exec(expr);
    const dir = joined === null ? undefined : dirs.get(joined[1] as string);
    if (joined === null || dir === undefined) return null;
    settings[key] = `${dir}${joined[3] as string}`;
    computed = true;
  }
  return { settings, computed };
}

/**
 * The identity of an emcc compile or link under this environment, or null when it is too
 * hard. The common case (the installation's own configuration with literal settings,
 * nothing overridden) is the identity as it is.
 */
export function withEmscriptenConfig(ident: CompilerIdentity, env: Readonly<Record<string, string>>, cwd: string, files: FileHashes): CompilerIdentity | null {
  if (!EMCC_UNCACHEABLE_ENV_VARS.every((v) => emccEnvOff(v, env[v]))) return null;
  const root = path.dirname(realPathOrNull(ident.path) ?? ident.path);
  const configPath = emscriptenConfigPath(root, env, cwd);
  const own = configPath === path.join(root, ".emscripten");
  const overridden = [...EMSCRIPTEN_CONFIG_KEYS.map((k) => `EM_${k}`), ...VERSION_FALLBACKS].filter((v) => env[v] !== undefined);
  let text = "";
  if (configPath !== null) {
    try {
      text = fs.readFileSync(configPath, "latin1");
    } catch {
      return null;
    }
  }
  const read = emscriptenSettings(text, configPath);
  // A wrapper around every clang run can do anything.
  if (read === null || read.settings.COMPILER_WRAPPER !== undefined) return null;
  // The fingerprint resolved the installation's own literal, absolute settings already.
  const absolute = (["LLVM_ROOT", "BINARYEN_ROOT", "NODE_JS"] as const).every((k) => read.settings[k]?.startsWith("/") ?? true);
  if (own && overridden.length === 0 && !read.computed && absolute) return ident;

  const config = read.settings;
  for (const k of EMSCRIPTEN_CONFIG_KEYS) {
    const v = env[`EM_${k}`];
    if (v !== undefined) config[k] = v;
  }
  for (const k of VERSION_FALLBACKS) if (config[k] === undefined && env[k] !== undefined) config[k] = env[k];
  const parts = [`config\u0000${configPath ?? "none"}\u0000${configPath === null ? "" : (files.hash(configPath) ?? "unreadable")}`];
  const watched: string[] = configPath === null ? [] : [configPath];
  // emcc expands `~` in the paths of the tools it runs; a bare name is found on PATH.
  const home = env.HOME ?? os.homedir();
  const locate = (p: string): string => {
    const spelled = p === "~" || p.startsWith("~/") ? path.join(home, p.slice(1)) : p;
    return spelled.includes("/") ? path.resolve(cwd, spelled) : (resolveCompiler(spelled, cwd, env.PATH ?? "", null) ?? path.resolve(cwd, spelled));
  };
  // The programs these settings name: big binaries, known by path, size and times as the
  // fingerprint knows the installation's own.
  for (const prog of emscriptenPrograms(config)) {
    const real = realPathOrNull(locate(prog));
    const st = real === null ? undefined : fs.statSync(real, { bigint: true, throwIfNoEntry: false });
    parts.push(st === undefined ? `${prog}\u0000absent` : `${prog}\u0000${real}\u0000${st.size}\u0000${st.mtimeNs}\u0000${st.ctimeNs}`);
    if (real !== null) watched.push(real);
  }
  // clang reads configuration files beside its real executable: not accounted for here.
  const clang = emscriptenClang(config);
  if (clang !== null && hasConfigFiles(locate(clang))) return null;
  const driverInputs = ident.driverInputs ?? { files: [], dirs: [], absent: [] };
  return {
    ...ident,
    hash: sha256Hex(`${ident.hash}\u0000${parts.join("\u0001")}`),
    driverInputs: { ...driverInputs, files: [...driverInputs.files, ...watched] },
  };
}

/**
 * Whether a compile may run with EMCC_CFLAGS as set: emcc appends its words to the command
 * line, while our decisions (outputs, search directories, key mode) read the command line
 * alone. Only options that cannot change those are accepted, as in a clang configuration
 * file (compilers/cc/driver-config.ts). (A link classifies them with its own arguments.)
 */
export function emccFlagsAcceptable(env: Readonly<Record<string, string>>): boolean {
  const flags = env.EMCC_CFLAGS;
  if (flags === undefined) return true;
  const words = /[#\n]/.test(flags) ? null : configWords(flags);
  return words !== null && !words.some((w) => w.startsWith("@")) && configOptionsAcceptable(words);
}
