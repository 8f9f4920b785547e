// Reads what a linker says about the files it read: GNU ld / gold / lld write a dependency
// file; wasm-ld (no --dependency-file in LLVM 14) logs "Loading: <file>" under --verbose, and
// that log is taken out of the stderr the build sees.
import * as path from "node:path";
import { parseDepfile } from "../cc/depfile.ts";

/**
 * Absolute form of a path a linker reported. `..` is kept as written: the kernel resolves it
 * through symlinks (`/usr/bin/../lib` need not be `/usr/lib`), lexical normalising does not.
 */
export function reportedPath(p: string, cwd: string): string {
  if (p.split("/").includes("..")) return p.startsWith("/") ? p : `${cwd}/${p}`;
  return path.resolve(cwd, p);
}

/** Absolute paths named in a linker's dependency file, in order, without duplicates. */
export function filesFromLinkerDepfile(text: string, cwd: string): string[] {
  return [...new Set(parseDepfile(text).map((p) => reportedPath(p, cwd)))];
}

/** `wasm-ld-14: Loading: a.o`: lld's log lines carry the program name and no severity. */
const LLD_LOG_LINE = /^((?:[^\s:]*\/)?(?:wasm-ld|ld\.lld|ld64\.lld|lld)(?:-\d+)?): (.*)$/;

export interface VerboseSplit {
  /** Absolute paths of every file the linker loaded, without duplicates. */
  readonly files: string[];
  /** stderr without the linker's verbose log (warnings and errors kept). */
  readonly stderr: Buffer;
}

export function splitLldVerbose(stderr: Buffer, cwd: string): VerboseSplit {
  const files = new Set<string>();
  const kept: string[] = [];
  // latin1 maps bytes to characters one to one, so the kept lines replay byte for byte.
  const text = stderr.toString("latin1");
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = LLD_LOG_LINE.exec(line);
    if (m === null) {
      kept.push(line);
      continue;
    }
    const msg = m[2] as string;
    if (/^(warning|error): /.test(msg)) {
      kept.push(line);
      continue;
    }
    if (msg.startsWith("Loading: ")) {
      const file = Buffer.from(msg.slice("Loading: ".length), "latin1").toString("utf8");
      files.add(reportedPath(file, cwd));
    }
  }
  return { files: [...files], stderr: Buffer.from(kept.join("\n"), "latin1") };
}
