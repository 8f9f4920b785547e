// Library search: where `-l` may be found, so that a hit can prove no new library appeared
// that the linker would now pick instead; and the tool reports that name search directories.
import * as path from "node:path";
import type { LibRef } from "./invocation.ts";

/** File names a `-l` reference may resolve to in one directory, in the linker's order. */
export function libraryFileNames(lib: LibRef): string[] {
  if (lib.verbatim) return [lib.name];
  return lib.archiveOnly ? [`lib${lib.name}.a`] : [`lib${lib.name}.so`, `lib${lib.name}.a`];
}

/** A search directory as the linker sees it: `=dir` and `$SYSROOT/dir` are under the sysroot. */
export function searchDir(dir: string, cwd: string, sysroot: string | null): string {
  let d = dir;
  if (d.startsWith("=")) d = path.join(sysroot ?? "/", d.slice(1));
  else if (d.startsWith("$SYSROOT")) d = path.join(sysroot ?? "/", d.slice(8));
  return path.resolve(cwd, d);
}

/**
 * Every path where one of `libs` could appear in `dirs`. The cache keeps those that do not
 * exist after a miss as probes: any of them appearing later may change what the link reads.
 * Directory order does not matter, because every directory is probed.
 */
export function libraryProbes(libs: readonly LibRef[], dirs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const lib of libs) {
    const names = libraryFileNames(lib);
    for (const d of dirs) for (const n of names) out.add(path.join(d, n));
  }
  return [...out];
}

/** Startup files a driver finds by search (crt1.o, Scrt1.o, crti.o, crtbeginS.o, …). */
const STARTFILE = /^[A-Za-z]*crt[A-Za-z0-9]*\.o$/;

/**
 * Names a link read that the driver found by search without the command line naming them:
 * startup files, and the libraries it adds (`-lc`, `-lgcc`, `-lstdc++`, …) in both their
 * shared and archive forms. Any of them appearing in another search directory may be chosen
 * next time, as a `-l` library may.
 */
export function implicitSearchNames(read: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of read) {
    const base = path.basename(p);
    if (STARTFILE.test(base)) out.add(base);
    const lib = /^lib(.+?)\.(?:a|so)(?:\.\d+)*$/.exec(base);
    if (lib !== null) for (const n of libraryFileNames({ name: lib[1] as string, verbatim: false, archiveOnly: false })) out.add(n);
  }
  return [...out];
}

/** The `libraries: =a:b:c` line of `gcc -print-search-dirs` / `clang -print-search-dirs`. */
export function parsePrintSearchDirs(text: string, cwd = "/"): string[] {
  for (const line of text.split("\n")) {
    if (!line.startsWith("libraries: ")) continue;
    const list = line.slice("libraries: ".length).replace(/^=/, "");
    return dedupe(list.split(":").filter((d) => d !== "").map((d) => path.resolve(cwd, d)));
  }
  return [];
}

/** SEARCH_DIR("=/usr/lib") entries of GNU ld's built-in linker script (`ld --verbose`), as written. */
export function parseLdSearchDirs(text: string): string[] {
  const dirs: string[] = [];
  for (const m of text.matchAll(/SEARCH_DIR\("([^"]+)"\)/g)) dirs.push(m[1] as string);
  return dedupe(dirs);
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}
