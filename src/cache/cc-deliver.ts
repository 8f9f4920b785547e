// Delivers a C/C++ hit's outputs the way the compiler writes them. Where an output path is a
// symlink, compilers differ by file: gcc and clang open depfiles, .su and .gcno files for
// writing and so write through the link; clang renames a temporary file over its object
// (the link is replaced); gcc's assembler and objcopy unlink a link whose target exists
// and write through a dangling one; clang writes its .dwo through the link.
import * as fs from "node:fs";
import type { CcFamily } from "../compilers/family.ts";
import { err, ok, type Result } from "../platform/result.ts";
import { removeQuietly, siblingTemp } from "../platform/fsx.ts";
import type { DeliveryMode, MaterializeFailure, OutputRecord, Store } from "../store/store.ts";

export function writesThroughLink(family: CcFamily, role: string, target: string): boolean {
  if (role === "object" || (role === "dwo" && family === "gcc")) {
    return family === "gcc" && fs.statSync(target, { throwIfNoEntry: false }) === undefined;
  }
  return true;
}

/** Writes one output to `dest` (the current job's path for its role). */
export async function deliverCcOutput(
  store: Store,
  out: OutputRecord,
  dest: string,
  family: CcFamily,
  mode: DeliveryMode,
): Promise<Result<void, MaterializeFailure>> {
  const lst = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (lst === undefined || !lst.isSymbolicLink() || !writesThroughLink(family, out.role, dest)) {
    return store.materialize(out, dest, mode);
  }
  // Verified into a private name beside the link, then copied into whatever the link names
  // (truncating it in place, as the compiler's open() does); the link itself stays.
  const tmp = siblingTemp(dest);
  try {
    const r = await store.materialize(out, tmp, "copy");
    if (!r.ok) return r;
    fs.copyFileSync(tmp, dest);
    return ok(undefined);
  } catch {
    return err("io");
  } finally {
    removeQuietly(tmp);
  }
}

/**
 * Writes an output the entry describes (a rendered depfile) as the compiler writes it: opened
 * for writing and truncated in place, through a symlink, keeping the file's inode.
 */
export function writeRenderedOutput(dest: string, text: string): Result<void, MaterializeFailure> {
  try {
    fs.writeFileSync(dest, text, { mode: 0o666 & ~process.umask() });
    return ok(undefined);
  } catch {
    return err("io");
  }
}
