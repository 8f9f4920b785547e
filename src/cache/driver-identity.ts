// What a compiler driver reads besides its arguments, decided in one place for compiles,
// links and the driver rustc links through.
import { CLANG_UNCACHEABLE_ENV_VARS } from "../compilers/cc/plan.ts";
import type { CompilerFamily } from "../compilers/family.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import { withDriverConfig } from "./driver-config.ts";
import { withEmscriptenConfig } from "./emscripten-config.ts";
import type { FileHashes } from "./file-hashes.ts";
import { gccSpecs } from "./gcc-specs.ts";

/**
 * The compiler's identity with what its driver reads besides its arguments, or null when
 * that makes the compile too hard: a specs file gcc would read (gcc-specs.ts); for clang and
 * emcc, a variable that changes their options or makes them print or log what they did
 * (CLANG_UNCACHEABLE_ENV_VARS). clang's own configuration files are part of its identity
 * (driver-config.ts), as are the configuration and tools emcc's environment names
 * (emscripten-config.ts). By the real program: a clang installed as `gcc` reads
 * configuration files, not specs.
 */
export async function driverIdentity(
  ident: CompilerIdentity,
  family: CompilerFamily,
  env: Readonly<Record<string, string>>,
  cwd: string,
  files: FileHashes,
): Promise<CompilerIdentity | null> {
  const clangVars = CLANG_UNCACHEABLE_ENV_VARS.some((v) => env[v] !== undefined);
  const asClang = async (): Promise<CompilerIdentity | null> => (clangVars ? null : withDriverConfig(ident, env, files));
  if (family === "emcc") return clangVars ? null : withEmscriptenConfig(ident, env, cwd, files);
  if (family === "clang" || (family === "gcc" && /clang/.test(ident.realName))) return asClang();
  if (family !== "gcc") return ident;
  const specs = await gccSpecs(ident, env, cwd);
  // Not gcc's answer: a clang under another name (a copy or link called `cc`) is asked as clang.
  if (specs === undefined) return asClang();
  if (specs.found !== null) return null;
  return { ...ident, driverInputs: { files: [], dirs: [], absent: specs.candidates } };
}
