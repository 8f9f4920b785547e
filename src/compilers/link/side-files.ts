// Which files next to a link's output count as the link's own side files: names tied to the
// output by a known suffix (prog.map, libx.so.debug, app.js.symbols, app.wasm next to
// app.js) and files named by options (-Map=…, --out-implib=…, taken wherever they are). Any
// other file the link or its deploy hook writes in the output's directory is taken too, but
// only when nothing says another part of the build wrote it (link/miss.ts): a directory is
// shared with the rest of a parallel build, and a file taken by mistake would be written back
// on every hit.
import * as path from "node:path";
import { isSourceFile } from "./driver-args.ts";

/** Suffixes linkers (emcc above all) add to the output's name or to its stem. */
const SIDE_SUFFIXES: readonly string[] = [
  ".map",
  ".debug",
  ".dbg",
  ".sym",
  ".symbols",
  ".dwp",
  ".dwo",
  ".wasm",
  ".wasm.map",
  ".wasm.debug.wasm",
  ".js",
  ".mjs",
  ".js.map",
  ".js.mem",
  ".js.symbols",
  ".html.mem",
  ".mem",
  ".data",
  ".worker.js",
  ".ww.js",
  ".aw.js",
  ".d.ts",
  ".pdb",
  ".lib",
  ".exp",
  ".manifest",
];

/** Never a link's or a deploy hook's side file: sources, headers, objects, build files. */
const NEVER = new Set([".h", ".hh", ".hpp", ".hxx", ".H", ".inc", ".o", ".obj", ".a", ".lo", ".la", ".d", ".mk", ".in", ".cmake"]);

/** `app.js` → `app`; `a.out.js` → `a.out`; `prog` → `prog`. */
export function outputStem(outputBase: string): string {
  const dot = outputBase.lastIndexOf(".");
  return dot > 0 ? outputBase.slice(0, dot) : outputBase;
}

function neverTaken(name: string): boolean {
  return isSourceFile(name) || NEVER.has(path.extname(name));
}

/**
 * A file another part of a build writes (a source, header, object, archive, makefile): when
 * one changes next to a link's output while the link or its hook runs, someone else wrote it.
 */
export function isBuildFile(name: string): boolean {
  return neverTaken(name) || /\.(gch|pch|pcm|gcno|gcda|su|i|ii|s)$/.test(name);
}

/** A file the link itself may have written next to `outputBase`. */
export function isLinkSideFile(name: string, outputBase: string): boolean {
  if (name === outputBase || neverTaken(name)) return false;
  const stem = outputStem(outputBase);
  return SIDE_SUFFIXES.some((s) => name === outputBase + s || name === stem + s);
}

/** Temp files of tools that write through a sibling and a rename (ours included). */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}

export function outputDirOf(outputAbs: string): { dir: string; base: string } {
  return { dir: path.dirname(outputAbs), base: path.basename(outputAbs) };
}
