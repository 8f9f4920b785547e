// Which files next to a link's output count as the link's own side files. A directory is
// shared with the rest of a parallel build, and a file taken by mistake would be written back
// on every hit, so only names tied to the output by a known suffix are taken: prog.map,
// libx.so.debug, app.js.symbols, and app.wasm next to app.js. Files named by options
// (-Map=…, --out-implib=…) are taken wherever they are.
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

/** A file the link itself may have written next to `outputBase`. */
export function isLinkSideFile(name: string, outputBase: string): boolean {
  if (name === outputBase || neverTaken(name)) return false;
  const stem = outputStem(outputBase);
  return SIDE_SUFFIXES.some((s) => name === outputBase + s || name === stem + s);
}

/** A file a post-link deploy hook may have dropped next to the output: one named after it. */
export function isDeploySideFile(name: string, outputBase: string): boolean {
  if (name === outputBase || neverTaken(name)) return false;
  const stem = outputStem(outputBase);
  return [outputBase, stem].some((s) => name.startsWith(s) && /^[._-]/.test(name.slice(s.length)));
}

/** Temp files of tools that write through a sibling and a rename (ours included). */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}

export function outputDirOf(outputAbs: string): { dir: string; base: string } {
  return { dir: path.dirname(outputAbs), base: path.basename(outputAbs) };
}
