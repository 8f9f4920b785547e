// Private scratch files in the cache root's tmp/ (a depfile we ask the compiler for, …): a
// name no other job of this daemon uses, removed once the job is done with it.
import * as path from "node:path";
import { removeQuietly } from "../platform/fsx.ts";

let counter = 0;

/** A fresh path in `tmpDir` for this daemon, never handed out twice. */
export function scratchPath(tmpDir: string, prefix: string, suffix = ".d"): string {
  counter++;
  return path.join(tmpDir, `${prefix}-${process.pid}-${counter}${suffix}`);
}

/** Runs `fn` with a fresh scratch path and removes whatever is there afterwards. */
export async function withScratch<T>(tmpDir: string, prefix: string, fn: (p: string) => Promise<T>): Promise<T> {
  const p = scratchPath(tmpDir, prefix);
  try {
    return await fn(p);
  } finally {
    removeQuietly(p);
  }
}
