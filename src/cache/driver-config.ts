// clang reads configuration files besides its arguments: `<prefix>.cfg` for a prefixed
// driver name (`x86_64-linux-gnu-clang`) and, since clang 16, `clang.cfg`, `<triple>.cfg`
// and the like for any name, from the directory of its real executable and from the system
// and user configuration directories it was built with (`clang -v` names those). A file
// there adds options to every compile without changing the binary, so the files are part of
// the compiler's identity: their names and contents are mixed into its hash. Which of them
// clang would read depends on its version, name and target, so every `*.cfg` file in those
// directories counts, and a new one changes the identity too. What a file may say is
// limited (compilers/cc/driver-config.ts); one saying more makes the compile too hard.
import * as fs from "node:fs";
import * as path from "node:path";
import { cfgNamesIn, configOptionsAcceptable, configWords, parseConfigDirs } from "../compilers/cc/driver-config.ts";
import { runCapture } from "../platform/exec.ts";
import { realPathOrNull, type StatSnapshot } from "../platform/fsx.ts";
import { sha256Hex } from "../platform/hash.ts";
import { directorySnapshot } from "../platform/stat-snapshot.ts";
import { stillTrusted } from "../platform/stat-trust.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import type { FileHashes } from "./file-hashes.ts";
import { ProbeMemo } from "./probe-memo.ts";

const MEMO_LIMIT = 1024;

/** The system and user configuration directories of each clang binary, as `-v` prints them. */
const configDirsMemo = new ProbeMemo<readonly string[]>(MEMO_LIMIT);
/** `*.cfg` names per directory, trusted while the directory's stat is unchanged. */
const listings = new Map<string, { readonly snapshot: StatSnapshot; readonly listedAtNs: bigint; readonly names: readonly string[] }>();
/** The words of a configuration file, by content hash (null: not one we can read). */
const wordsByHash = new Map<string, readonly string[] | null>();
/** Whether a configuration file with the files it includes is one we can stand behind. */
const verdicts = new Map<string, boolean>();
/** How deep `@file` inclusions are followed. */
const MAX_NESTING = 8;

function configDirs(ident: CompilerIdentity, env: Record<string, string>): Promise<readonly string[]> {
  // clang expands `~` in its user directory from HOME when it starts.
  const key = `${ident.path}\u0000${ident.hash}\u0000${env.HOME ?? ""}`;
  // Nothing compiled, linked or written: the commands are printed, not run.
  return configDirsMemo.get(key, () =>
    runCapture([ident.path, "-###", "-v", "-x", "c", "-c", "/dev/null"], { cwd: "/", env: { ...env } }).then((r) => {
      if (r.exitCode !== 0) throw new Error(`${ident.path} -v failed`);
      return parseConfigDirs(r.stderr.toString("utf8"));
    }),
  );
}

/** The `*.cfg` names in `dir`, sorted; [] when it does not exist; null when it cannot be read. */
function cfgNames(dir: string): readonly string[] | null {
  const st = directorySnapshot(dir);
  if (st === null) {
    listings.delete(dir);
    return fs.existsSync(dir) ? null : [];
  }
  const known = listings.get(dir);
  if (known !== undefined && stillTrusted(known.snapshot, known.listedAtNs, st)) return known.names;
  const listedAtNs = BigInt(Date.now()) * 1_000_000n;
  const names = cfgNamesIn(dir);
  if (names === null) return null;
  if (listings.size >= MEMO_LIMIT) listings.clear();
  listings.set(dir, { snapshot: st, listedAtNs, names });
  return names;
}

/**
 * A configuration file's words with the files it includes (`@file`, relative to its own
 * directory) read in, and each file with its content hash; null when one cannot be read or
 * holds what we would have to interpret.
 */
function readNested(file: string, files: FileHashes, depth: number): { parts: string[]; words: string[]; files: string[] } | null {
  const hash = files.hash(file);
  if (hash === null || depth > MAX_NESTING) return null;
  let words = wordsByHash.get(hash);
  if (words === undefined) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return null;
    }
    // Changed since it was hashed: judged on the next compile.
    if (sha256Hex(bytes) !== hash) return null;
    words = configWords(bytes.toString("latin1"));
    if (wordsByHash.size >= MEMO_LIMIT) wordsByHash.clear();
    wordsByHash.set(hash, words);
  }
  if (words === null) return null;
  const parts = [`${file}\u0000${hash}`];
  const read = [file];
  const out: string[] = [];
  for (const w of words) {
    if (!w.startsWith("@")) {
      out.push(w);
      continue;
    }
    const ref = w.slice(1);
    // Joined as clang joins it: `..` after a symlink is the kernel's to resolve.
    const nested = readNested(ref.startsWith("/") ? ref : `${path.dirname(file)}/${ref}`, files, depth + 1);
    if (nested === null) return null;
    parts.push(...nested.parts);
    read.push(...nested.files);
    out.push(...nested.words);
  }
  return { parts, words: out, files: read };
}

/**
 * `ident` with the configuration files clang would read mixed into its hash (unchanged when
 * there are none); null when one of them cannot be read or says what we cannot account for.
 */
export async function withDriverConfig(
  ident: CompilerIdentity,
  env: Record<string, string>,
  files: FileHashes,
): Promise<CompilerIdentity | null> {
  const real = realPathOrNull(ident.path);
  if (real === null) return null;
  let extra: readonly string[];
  try {
    extra = await configDirs(ident, env);
  } catch {
    return null;
  }
  const home = env.HOME ?? "";
  const dirs = [...new Set([path.dirname(real), ...extra.map((d) => (d.startsWith("~/") && home !== "" ? path.join(home, d.slice(2)) : d))])];
  const parts: string[] = [];
  const read: string[] = [];
  for (const dir of dirs) {
    if (!dir.startsWith("/")) return null;
    const names = cfgNames(dir);
    if (names === null) return null;
    for (const name of names) {
      const file = path.join(dir, name);
      const hash = files.hash(file);
      // A name that is no regular file (a directory, a dangling link) is passed over by clang;
      // say that it is there, as it may become one.
      if (hash === null) {
        let isFile: boolean;
        try {
          isFile = fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
        } catch {
          // A link loop, a name below a file: clang passes over it as well.
          isFile = false;
        }
        if (isFile) return null;
        parts.push(`${file}\u0000-`);
        continue;
      }
      const nested = readNested(file, files, 0);
      if (nested === null) return null;
      const verdictKey = nested.parts.join("\u0000");
      let ok = verdicts.get(verdictKey);
      if (ok === undefined) {
        ok = configOptionsAcceptable(nested.words);
        if (verdicts.size >= MEMO_LIMIT) verdicts.clear();
        verdicts.set(verdictKey, ok);
      }
      if (!ok) return null;
      // clang uses `<file>.pch` (or `.gch`) beside a forced include when one is there: our
      // probes know only the command line's forced includes.
      for (let i = 0; i < nested.words.length; i++) {
        if (nested.words[i] !== "-include") continue;
        const v = nested.words[i + 1] ?? "";
        if (fs.existsSync(`${v}.pch`) || fs.existsSync(`${v}.gch`)) return null;
      }
      parts.push(...nested.parts);
      read.push(...nested.files);
    }
  }
  const driverInputs = { files: read, dirs, absent: [] };
  if (parts.length === 0) return { ...ident, driverInputs };
  return { ...ident, hash: sha256Hex(`${ident.hash}\u0000driver-config\u0000${parts.join("\u0000")}`) as CompilerIdentity["hash"], driverInputs };
}

/** Whether the directory of `clangPath`'s real file holds any `*.cfg` (or cannot be read). */
export function hasConfigFiles(clangPath: string): boolean {
  const real = realPathOrNull(clangPath);
  if (real === null) return false;
  const names = cfgNames(path.dirname(real));
  return names === null || names.length > 0;
}
