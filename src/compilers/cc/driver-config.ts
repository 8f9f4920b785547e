// What clang's configuration files may say (cache/driver-config.ts finds and hashes them).
// Many of our decisions are read from the command line alone: how the key treats locations
// (-g, coverage, prefix maps), the host CPU (-march=native), the assembler run
// (-fno-integrated-as), the linker and library search of a link, colour and message length,
// forced-include and PCH probes, the language. An option a file adds is invisible to all of
// them, so only options known to touch none are accepted: defines, optimisation levels,
// warnings, language standards, the target, code-generation switches from a fixed list, and
// an absolute sysroot or forced include (the system-directory query runs the real driver,
// which reads the files; a forced include is in the depfile). Files they include
// (`@other.cfg`) are read in and hashed. Anything else makes the compile too hard.
import * as fs from "node:fs";

/** The `*.cfg` names in `dir`, sorted; null when it cannot be listed. */
export function cfgNamesIn(dir: string): string[] | null {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(".cfg"))
      .sort();
  } catch {
    return null;
  }
}

/** The directories `clang -v` names as its system and user configuration directories. */
export function parseConfigDirs(verbose: string): string[] {
  const out: string[] = [];
  for (const m of verbose.matchAll(/^(?:System|User) configuration file directory: (.*)$/gm)) out.push((m[1] as string).trim());
  return out;
}

/**
 * The words of a configuration file (`#` lines are comments; a word may be quoted whole, as
 * `"-include" "/usr/include/x.h"`), `@file` references among them; null for anything we
 * would have to interpret as clang's tokenizer does: a backslash, an empty or partly quoted
 * word, a `$` option (placed after the command line).
 */
export function configWords(text: string): string[] | null {
  const words: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^[ \t\r]+|[ \t\r]+$/g, "");
    if (line === "" || line.startsWith("#")) continue;
    for (const w of line.split(/[ \t\r]+/)) {
      const quoted = /^"([^"'\\$]+)"$/.exec(w) ?? /^'([^"'\\$]+)'$/.exec(w);
      if (quoted !== null) {
        words.push(quoted[1] as string);
        continue;
      }
      if (w === "" || /["'\\$]/.test(w)) return null;
      words.push(w);
    }
  }
  return words;
}

/** Options with no value of their own that only change the code, the warnings or the language standard. */
const SWITCH =
  /^(-O([0-3sgz]|fast)?|-w|-pedantic(-errors)?|-W(no-)?(error=)?[a-z][a-z0-9_+-]*(=[a-z0-9_-]+)?|-std=[a-z0-9+]+|--target=[A-Za-z0-9_.-]+|-m(no-)?[a-z0-9][a-z0-9_.-]*(=[A-Za-z0-9_.,+-]+)?|-f(no-)?(stack-protector(-strong|-all)?|stack-clash-protection|PIC|PIE|pic|pie|plt|cf-protection(=[a-z]+)?|omit-frame-pointer|function-sections|data-sections|visibility=[a-z-]+|exceptions|cxx-exceptions|rtti|wrapv|trapv|strict-aliasing|strict-overflow|common|trivial-auto-var-init=[a-z]+|delete-null-pointer-checks|math-errno|fast-math|finite-math-only|signed-char|unsigned-char|short-enums|asynchronous-unwind-tables|unwind-tables|semantic-interposition|builtin|inline-functions|zero-initialized-in-bss|threadsafe-statics|lto(=[a-z]+)?|sized-deallocation|aligned-allocation|char8_t|gnu89-inline|ms-extensions|declspec|blocks|vectorize|slp-vectorize|unroll-loops|merge-all-constants|ident|jump-tables|pch-instantiate-templates)|-stdlib=[a-z+]+|--?rtlib=[a-z-]+|--?unwindlib=[a-z-]+|--no-default-config)$/;

/** `-march=native` and the like depend on the machine: the key holds the host CPU only when the command line says so. */
const NATIVE = /^-m(arch|cpu|tune)=native|^-mllvm$/;

/** Options followed by a value of their own: a define, an absolute sysroot or forced include, a target. */
const WITH_VALUE: Readonly<Record<string, (v: string) => boolean>> = {
  "-D": () => true,
  "-U": () => true,
  "-include": (v) => v.startsWith("/"),
  "-isysroot": (v) => v.startsWith("/"),
  "--sysroot": (v) => v.startsWith("/"),
  "-target": (v) => /^[A-Za-z0-9_.-]+$/.test(v),
};

/**
 * Whether the options of a driver's configuration files (nested files already read in) are
 * all ones we can stand behind (see the top of this file).
 */
export function configOptionsAcceptable(words: readonly string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (NATIVE.test(w)) return false;
    if (SWITCH.test(w)) continue;
    const joined = /^(-D|-U)(.+)$/.exec(w) ?? /^(--sysroot|--gcc-install-dir|--gcc-toolchain)=(.+)$/.exec(w);
    if (joined !== null) {
      const [, name, value] = joined as unknown as [string, string, string];
      if (name === "-D" || name === "-U" || value.startsWith("/")) continue;
      return false;
    }
    const check = WITH_VALUE[w];
    const value = words[i + 1];
    if (check === undefined || value === undefined || !check(value)) return false;
    i++;
  }
  return true;
}

/** One configuration file on its own (no nested files): configWords, then configOptionsAcceptable. */
export function configTextAcceptable(text: string): boolean {
  const words = configWords(text);
  return words !== null && !words.some((w) => w.startsWith("@")) && configOptionsAcceptable(words);
}
