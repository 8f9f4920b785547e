// The client's check of the runtime dir before it talks to (or starts) a daemon there.
// A socket in a dir another user controls could be theirs: our request carries our whole
// environment, and their answer would be written into our build as object files.
import { ensurePrivateRuntimeDir, inspectDir, rememberedVerdict } from "../protocol/runtime-dir.ts";

/**
 * True when `dir` is a real directory of ours with no group/other bits. An absent dir is
 * created 0700 here and checked again, so no one can slip their own dir (and socket) in
 * between this check and the daemon starting. A refused dir is left exactly as it is; with
 * `reportToCacheRoot` (a compile, not a command) the refusal is counted.
 */
export async function runtimeDirTrusted(dir: string, reportToCacheRoot?: string): Promise<boolean> {
  const uid = process.getuid?.() ?? 0;
  // Ordinary path: endpointFor already lstat-ed this dir while choosing it.
  let verdict = rememberedVerdict(dir) ?? inspectDir(dir, uid);
  if (verdict.kind === "private") return true;
  if (verdict.kind === "absent") {
    // Rare path (first compile after boot): node:fs is loaded only here.
    const fs = await import("node:fs");
    verdict = ensurePrivateRuntimeDir(dir, uid, fs);
    if (verdict.kind === "private") return true;
  }
  // A compile that runs uncached for this is counted, as a client report the daemon folds in.
  if (reportToCacheRoot !== undefined) {
    const { recordClientReport } = await import("./daemon-process.ts");
    recordClientReport(reportToCacheRoot, "runtime-dir-refused");
  }
  return false;
}
