// Expands @file arguments the way gcc's libiberty does: whitespace-separated words,
// single and double quotes, backslash escapes, nested @files relative to the cwd.
import * as fs from "node:fs";
import * as path from "node:path";
import { err, ok, type Result } from "../../platform/result.ts";

const MAX_DEPTH = 16;

/** The error for a response file that is one of the client's file descriptors. */
export const FD_INPUT = "fd-input";

/**
 * Paths that name the calling process's open files: the daemon opening them would get its
 * own descriptors (or another process's), not the client's.
 */
export function isClientFdPath(p: string): boolean {
  return /^\/dev\/(fd\/|std(in|out|err)$|tty$)/.test(p) || /^\/proc\/(self|thread-self|\d+)\/(fd|fdinfo|task)\//.test(p);
}

export function splitResponseFile(text: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && i + 1 < text.length) {
      cur += text[i + 1];
      i++;
      inWord = true;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

/** Returns the expanded argument list plus every response file read (for the key). */
export function expandResponseFiles(
  args: readonly string[],
  cwd: string,
): Result<{ args: string[]; files: string[] }, string> {
  const files: string[] = [];
  const expand = (list: readonly string[], depth: number): Result<string[], string> => {
    const out: string[] = [];
    for (const a of list) {
      if (!a.startsWith("@") || a.length === 1) {
        out.push(a);
        continue;
      }
      if (depth >= MAX_DEPTH) return err("response files nested too deeply");
      const p = path.resolve(cwd, a.slice(1));
      // The client's own descriptors (`@<(…)` is /dev/fd/63) mean something else in the
      // daemon; a FIFO would block it.
      if (isClientFdPath(p)) return err(FD_INPUT);
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (st !== undefined && !st.isFile()) return err("response file is not a regular file");
      let text: string;
      try {
        text = fs.readFileSync(p, "utf8");
      } catch {
        // gcc keeps an unreadable @word as a literal argument; so do we.
        out.push(a);
        continue;
      }
      files.push(p);
      const inner = expand(splitResponseFile(text), depth + 1);
      if (!inner.ok) return inner;
      out.push(...inner.value);
    }
    return ok(out);
  };
  const r = expand(args, 0);
  return r.ok ? ok({ args: r.value, files }) : r;
}
